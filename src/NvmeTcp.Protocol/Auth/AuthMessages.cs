using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using NvmeTcp.Protocol.Fabrics;

namespace NvmeTcp.Protocol.Auth;

/// <summary>AUTH-Type, byte 0 of every authentication message.</summary>
public enum AuthMessageType : byte
{
    /// <summary>Common messages: AUTH_Negotiate, AUTH_Failure1, AUTH_Failure2.</summary>
    Common = 0x00,

    /// <summary>DH-HMAC-CHAP messages: Challenge, Reply, Success1, Success2.</summary>
    DhHmacChap = 0x01,
}

/// <summary>AUTH-Id, byte 1 of every authentication message (Linux <c>NVME_AUTH_DHCHAP_MESSAGE_*</c>).</summary>
public enum AuthMessageId : byte
{
    /// <summary>AUTH_Negotiate (common).</summary>
    Negotiate = 0x00,

    /// <summary>DH-HMAC-CHAP_Challenge.</summary>
    Challenge = 0x01,

    /// <summary>DH-HMAC-CHAP_Reply.</summary>
    Reply = 0x02,

    /// <summary>DH-HMAC-CHAP_Success1.</summary>
    Success1 = 0x03,

    /// <summary>DH-HMAC-CHAP_Success2.</summary>
    Success2 = 0x04,

    /// <summary>AUTH_Failure2 (common), host to controller.</summary>
    Failure2 = 0xF0,

    /// <summary>AUTH_Failure1 (common), controller to host.</summary>
    Failure1 = 0xF1,
}

/// <summary>
/// The header every authentication message starts with (NVMe Base 2.0 "Authentication protocol messages"):
/// <code>
/// byte 0    AUTH-Type
/// byte 1    AUTH-Id
/// byte 2-3  reserved
/// byte 4-5  T_ID   transaction identifier, little-endian
/// </code>
/// </summary>
public static class AuthMessage
{
    /// <summary>Bytes of the common header (type, id, reserved, T_ID).</summary>
    public const int CommonHeaderSize = 6;

    /// <summary>Reads the common header; false when fewer than 6 bytes are given.</summary>
    public static bool TryReadHeader(ReadOnlySpan<byte> data, out AuthMessageType type, out AuthMessageId id, out ushort transactionId)
    {
        if (data.Length < CommonHeaderSize)
        {
            type = default;
            id = default;
            transactionId = 0;
            return false;
        }

        type = (AuthMessageType)data[0];
        id = (AuthMessageId)data[1];
        transactionId = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        return true;
    }

    internal static void WriteHeader(Span<byte> destination, int size, AuthMessageType type, AuthMessageId id, ushort transactionId)
    {
        destination[..size].Clear();
        destination[0] = (byte)type;
        destination[1] = (byte)id;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[4..], transactionId);
    }

    internal static bool Is(ReadOnlySpan<byte> data, AuthMessageType type, AuthMessageId id) =>
        data.Length >= CommonHeaderSize && data[0] == (byte)type && data[1] == (byte)id;

    /// <summary>
    /// The checks every reader starts with: the message is of <paramref name="type"/> and <paramref name="id"/> (else
    /// Incorrect Message) and holds at least <paramref name="minimumLength"/> bytes (else Incorrect Payload).
    /// </summary>
    internal static bool TryBegin(ReadOnlySpan<byte> data, AuthMessageType type, AuthMessageId id, int minimumLength, out AuthFailureReason reason)
    {
        if (!Is(data, type, id))
        {
            reason = AuthFailureReason.IncorrectMessage;
            return false;
        }

        if (data.Length < minimumLength)
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        reason = default;
        return true;
    }
}

/// <summary>
/// AUTH_Negotiate (NVMe Base 2.0 "AUTH_Negotiate message"; Linux <c>struct nvmf_auth_dhchap_negotiate_data</c>),
/// host to controller, with one DH-HMAC-CHAP protocol descriptor:
/// <code>
/// byte 0-5    common header (type 00h, id 00h, T_ID)
/// byte 6      SC_C   secure channel concatenation (<see cref="AuthSecureChannel"/>), 0 for none
/// byte 7      NAPD   number of protocol descriptors, 1
/// byte 8      AUTHID 01h DH-HMAC-CHAP
/// byte 10     HALEN  hash identifiers in IDList[0..29]
/// byte 11     DHLEN  DH group identifiers in IDList[30..59]
/// byte 12-71  IDList
/// </code>
/// </summary>
public sealed class AuthNegotiateMessage
{
    /// <summary>The size of a negotiate message with one descriptor: 8 + 64.</summary>
    public const int Size = 72;

    private const int DescriptorOffset = 8;
    private const int IdListOffset = 12;
    private const int MaxIds = 30;

    /// <summary>Creates a negotiate message.</summary>
    /// <exception cref="ArgumentException">More than 30 hashes or groups, or none.</exception>
    public AuthNegotiateMessage(ushort transactionId, IReadOnlyList<DhchapHashFunction> hashes, IReadOnlyList<DhchapDhGroup> groups, AuthSecureChannel secureChannel = AuthSecureChannel.None)
    {
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(groups);
        if (hashes.Count is 0 or > MaxIds || groups.Count is 0 or > MaxIds)
        {
            throw new ArgumentException("An AUTH_Negotiate carries 1 to 30 hash and 1 to 30 DH group identifiers.");
        }

        TransactionId = transactionId;
        Hashes = hashes;
        Groups = groups;
        SecureChannel = secureChannel;
    }

    /// <summary>T_ID.</summary>
    public ushort TransactionId { get; }

    /// <summary>SC_C: the secure channel concatenation asked for (<see cref="AuthSecureChannel.None"/> for none).</summary>
    public AuthSecureChannel SecureChannel { get; }

    /// <summary>The hash functions the host offers, in its order of preference.</summary>
    public IReadOnlyList<DhchapHashFunction> Hashes { get; }

    /// <summary>The DH groups the host offers, in its order of preference.</summary>
    public IReadOnlyList<DhchapDhGroup> Groups { get; }

    /// <summary>Writes the message; returns <see cref="Size"/>.</summary>
    public int Write(Span<byte> destination)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.Common, AuthMessageId.Negotiate, TransactionId);
        destination[6] = (byte)SecureChannel;
        destination[7] = 1;
        destination[DescriptorOffset] = AuthenticationCommands.DhHmacChapSpecific;
        destination[DescriptorOffset + 2] = (byte)Hashes.Count;
        destination[DescriptorOffset + 3] = (byte)Groups.Count;
        for (var i = 0; i < Hashes.Count; i++)
        {
            destination[IdListOffset + i] = (byte)Hashes[i];
        }

        for (var i = 0; i < Groups.Count; i++)
        {
            destination[IdListOffset + MaxIds + i] = (byte)Groups[i];
        }

        return Size;
    }

    /// <summary>
    /// Reads a negotiate message. Fails with Incorrect Payload when it is shorter than one descriptor or its lists are
    /// longer than 30, with Protocol Unusable when it carries other than one DH-HMAC-CHAP descriptor.
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, [NotNullWhen(true)] out AuthNegotiateMessage? message, out AuthFailureReason reason)
    {
        message = null;
        if (!AuthMessage.TryBegin(data, AuthMessageType.Common, AuthMessageId.Negotiate, Size, out reason))
        {
            return false;
        }

        if (data[7] != 1 || data[DescriptorOffset] != AuthenticationCommands.DhHmacChapSpecific)
        {
            reason = AuthFailureReason.ProtocolUnusable;
            return false;
        }

        int halen = data[DescriptorOffset + 2], dhlen = data[DescriptorOffset + 3];
        if (halen is 0 or > MaxIds || dhlen is 0 or > MaxIds)
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        var hashes = new DhchapHashFunction[halen];
        for (var i = 0; i < halen; i++)
        {
            hashes[i] = (DhchapHashFunction)data[IdListOffset + i];
        }

        var groups = new DhchapDhGroup[dhlen];
        for (var i = 0; i < dhlen; i++)
        {
            groups[i] = (DhchapDhGroup)data[IdListOffset + MaxIds + i];
        }

        BinaryPrimitives.TryReadUInt16LittleEndian(data[4..], out var tid);
        message = new AuthNegotiateMessage(tid, hashes, groups, (AuthSecureChannel)data[6]);
        reason = AuthFailureReason.None;
        return true;
    }
}

/// <summary>
/// DH-HMAC-CHAP_Challenge (NVMe Base 2.0; Linux <c>struct nvmf_auth_dhchap_challenge_data</c>), controller to host:
/// <code>
/// byte 0-5    common header (type 01h, id 01h, T_ID)
/// byte 6      HL      hash length
/// byte 8      HASHID  the hash function chosen
/// byte 9      DHGID   the DH group chosen
/// byte 10-11  DHVLEN  DH value length
/// byte 12-15  SEQNUM  S1
/// byte 16     C1 (HL bytes), then the controller's DH value (DHVLEN bytes)
/// </code>
/// </summary>
public sealed class DhchapChallengeMessage
{
    /// <summary>Bytes before the challenge value.</summary>
    public const int HeaderSize = 16;

    /// <summary>Creates a challenge.</summary>
    public DhchapChallengeMessage(ushort transactionId, DhchapHashFunction hash, DhchapDhGroup group, uint sequenceNumber, byte[] challenge, byte[] dhValue)
    {
        TransactionId = transactionId;
        Hash = hash;
        Group = group;
        SequenceNumber = sequenceNumber;
        Challenge = challenge;
        DhValue = dhValue;
    }

    /// <summary>T_ID.</summary>
    public ushort TransactionId { get; }

    /// <summary>HASHID.</summary>
    public DhchapHashFunction Hash { get; }

    /// <summary>DHGID.</summary>
    public DhchapDhGroup Group { get; }

    /// <summary>SEQNUM (S1).</summary>
    public uint SequenceNumber { get; }

    /// <summary>C1, HL bytes.</summary>
    public byte[] Challenge { get; }

    /// <summary>The controller's DH public value, empty for the NULL group.</summary>
    public byte[] DhValue { get; }

    /// <summary>Bytes on the wire.</summary>
    public int Size => HeaderSize + Challenge.Length + DhValue.Length;

    /// <summary>Writes the message; returns <see cref="Size"/>.</summary>
    public int Write(Span<byte> destination)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.DhHmacChap, AuthMessageId.Challenge, TransactionId);
        destination[6] = (byte)Challenge.Length;
        destination[8] = (byte)Hash;
        destination[9] = (byte)Group;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], (ushort)DhValue.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], SequenceNumber);
        Challenge.CopyTo(destination[HeaderSize..]);
        DhValue.CopyTo(destination[(HeaderSize + Challenge.Length)..]);
        return Size;
    }

    /// <summary>
    /// Reads a challenge, checking every field before it allocates: HL and DHVLEN must fit in the data, the hash must
    /// be known and HL its length (else Hash Unusable), the group known (else DH Group Unusable), DHVLEN 0 for NULL
    /// and the group's prime size otherwise (else Incorrect Payload).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, [NotNullWhen(true)] out DhchapChallengeMessage? message, out AuthFailureReason reason)
    {
        message = null;
        if (!AuthMessage.TryBegin(data, AuthMessageType.DhHmacChap, AuthMessageId.Challenge, HeaderSize, out reason))
        {
            return false;
        }

        int hl = data[6];
        var hash = (DhchapHashFunction)data[8];
        var group = (DhchapDhGroup)data[9];
        int dhvlen = BinaryPrimitives.ReadUInt16LittleEndian(data[10..]);
        var seq = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        if (HeaderSize + hl + dhvlen > data.Length)
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        if (!DhchapIdentifiers.IsKnown(hash) || DhchapIdentifiers.HashLength(hash) != hl)
        {
            reason = AuthFailureReason.HashUnusable;
            return false;
        }

        if (!DhchapIdentifiers.IsKnown(group))
        {
            reason = AuthFailureReason.DhGroupUnusable;
            return false;
        }

        if (dhvlen != DhchapIdentifiers.DhValueLength(group))
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        var tid = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        message = new DhchapChallengeMessage(tid, hash, group, seq, data.Slice(HeaderSize, hl).ToArray(), data.Slice(HeaderSize + hl, dhvlen).ToArray());
        reason = AuthFailureReason.None;
        return true;
    }
}

/// <summary>
/// DH-HMAC-CHAP_Reply (NVMe Base 2.0; Linux <c>struct nvmf_auth_dhchap_reply_data</c>), host to controller:
/// <code>
/// byte 0-5    common header (type 01h, id 02h, T_ID)
/// byte 6      HL      hash length
/// byte 8      CVALID  1 when C2 is a challenge for the controller (bidirectional)
/// byte 10-11  DHVLEN  DH value length
/// byte 12-15  SEQNUM  S2, 0 when the host does not authenticate the controller
/// byte 16     R1 (HL bytes), C2 (HL bytes, zero when CVALID is 0), the host's DH value (DHVLEN bytes)
/// </code>
/// </summary>
public sealed class DhchapReplyMessage
{
    /// <summary>Bytes before the response value.</summary>
    public const int HeaderSize = 16;

    /// <summary>Creates a reply. <paramref name="challenge"/> is C2 (HL bytes) or null for a unidirectional reply.</summary>
    public DhchapReplyMessage(ushort transactionId, byte[] response, byte[]? challenge, uint sequenceNumber, byte[] dhValue)
    {
        ArgumentNullException.ThrowIfNull(response);
        if (challenge is not null && challenge.Length != response.Length)
        {
            throw new ArgumentException("C2 must be as long as the response (HL).", nameof(challenge));
        }

        TransactionId = transactionId;
        Response = response;
        Challenge = challenge;
        SequenceNumber = sequenceNumber;
        DhValue = dhValue;
    }

    /// <summary>T_ID.</summary>
    public ushort TransactionId { get; }

    /// <summary>R1, HL bytes.</summary>
    public byte[] Response { get; }

    /// <summary>C2 when CVALID is set, else null.</summary>
    public byte[]? Challenge { get; }

    /// <summary>SEQNUM (S2).</summary>
    public uint SequenceNumber { get; }

    /// <summary>The host's DH public value, empty for the NULL group.</summary>
    public byte[] DhValue { get; }

    /// <summary>Bytes on the wire: C2's field is always present, as Linux sends it.</summary>
    public int Size => HeaderSize + (2 * Response.Length) + DhValue.Length;

    /// <summary>Writes the message; returns <see cref="Size"/>.</summary>
    public int Write(Span<byte> destination)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.DhHmacChap, AuthMessageId.Reply, TransactionId);
        destination[6] = (byte)Response.Length;
        destination[8] = Challenge is null ? (byte)0 : (byte)1;
        BinaryPrimitives.WriteUInt16LittleEndian(destination[10..], (ushort)DhValue.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[12..], SequenceNumber);
        Response.CopyTo(destination[HeaderSize..]);
        Challenge?.CopyTo(destination[(HeaderSize + Response.Length)..]);
        DhValue.CopyTo(destination[(HeaderSize + (2 * Response.Length))..]);
        return Size;
    }

    /// <summary>
    /// Reads a reply whose HL must be <paramref name="hashLength"/> (the challenge's) and DHVLEN
    /// <paramref name="dhValueLength"/>; HL, C2 and DHVLEN must fit the data (Incorrect Payload otherwise).
    /// </summary>
    public static bool TryRead(ReadOnlySpan<byte> data, int hashLength, int dhValueLength, [NotNullWhen(true)] out DhchapReplyMessage? message, out AuthFailureReason reason)
    {
        message = null;
        if (!AuthMessage.TryBegin(data, AuthMessageType.DhHmacChap, AuthMessageId.Reply, HeaderSize, out reason))
        {
            return false;
        }

        int hl = data[6];
        var cvalid = data[8];
        int dhvlen = BinaryPrimitives.ReadUInt16LittleEndian(data[10..]);
        var seq = BinaryPrimitives.ReadUInt32LittleEndian(data[12..]);
        if (hl != hashLength)
        {
            reason = AuthFailureReason.HashUnusable;
            return false;
        }

        if (HeaderSize + (2 * hl) + dhvlen > data.Length || dhvlen != dhValueLength || cvalid > 1)
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        var tid = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        message = new DhchapReplyMessage(
            tid,
            data.Slice(HeaderSize, hl).ToArray(),
            cvalid == 1 ? data.Slice(HeaderSize + hl, hl).ToArray() : null,
            seq,
            data.Slice(HeaderSize + (2 * hl), dhvlen).ToArray());
        reason = AuthFailureReason.None;
        return true;
    }
}

/// <summary>
/// DH-HMAC-CHAP_Success1 (NVMe Base 2.0; Linux <c>struct nvmf_auth_dhchap_success1_data</c>), controller to host:
/// <code>
/// byte 0-5    common header (type 01h, id 03h, T_ID)
/// byte 6      HL
/// byte 8      RVALID  1 when R2 follows (bidirectional)
/// byte 16     R2 (HL bytes) when RVALID
/// </code>
/// </summary>
public sealed class DhchapSuccess1Message
{
    /// <summary>Bytes before R2.</summary>
    public const int HeaderSize = 16;

    /// <summary>Creates a Success1; <paramref name="response"/> is R2 or null.</summary>
    public DhchapSuccess1Message(ushort transactionId, int hashLength, byte[]? response)
    {
        TransactionId = transactionId;
        HashLength = hashLength;
        Response = response;
    }

    /// <summary>T_ID.</summary>
    public ushort TransactionId { get; }

    /// <summary>HL.</summary>
    public int HashLength { get; }

    /// <summary>R2 when RVALID, else null.</summary>
    public byte[]? Response { get; }

    /// <summary>Bytes on the wire.</summary>
    public int Size => HeaderSize + (Response?.Length ?? 0);

    /// <summary>Writes the message; returns <see cref="Size"/>.</summary>
    public int Write(Span<byte> destination)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.DhHmacChap, AuthMessageId.Success1, TransactionId);
        destination[6] = (byte)HashLength;
        destination[8] = Response is null ? (byte)0 : (byte)1;
        Response?.CopyTo(destination[HeaderSize..]);
        return Size;
    }

    /// <summary>Reads a Success1 whose HL must be <paramref name="hashLength"/>; R2 must fit when RVALID is set.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, int hashLength, [NotNullWhen(true)] out DhchapSuccess1Message? message, out AuthFailureReason reason)
    {
        message = null;
        if (!AuthMessage.TryBegin(data, AuthMessageType.DhHmacChap, AuthMessageId.Success1, HeaderSize, out reason))
        {
            return false;
        }

        if (data[6] != hashLength)
        {
            reason = AuthFailureReason.HashUnusable;
            return false;
        }

        var rvalid = data[8];
        if (rvalid > 1 || (rvalid == 1 && data.Length < HeaderSize + hashLength))
        {
            reason = AuthFailureReason.IncorrectPayload;
            return false;
        }

        var tid = BinaryPrimitives.ReadUInt16LittleEndian(data[4..]);
        message = new DhchapSuccess1Message(tid, hashLength, rvalid == 1 ? data.Slice(HeaderSize, hashLength).ToArray() : null);
        reason = AuthFailureReason.None;
        return true;
    }
}

/// <summary>
/// DH-HMAC-CHAP_Success2 (Linux <c>struct nvmf_auth_dhchap_success2_data</c>), host to controller after it has
/// checked R2: 16 bytes, the common header (type 01h, id 04h, T_ID) and reserved bytes.
/// </summary>
public static class DhchapSuccess2Message
{
    /// <summary>Bytes on the wire.</summary>
    public const int Size = 16;

    /// <summary>Writes the message; returns <see cref="Size"/>.</summary>
    public static int Write(Span<byte> destination, ushort transactionId)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.DhHmacChap, AuthMessageId.Success2, transactionId);
        return Size;
    }
}

/// <summary>
/// AUTH_Failure1 (controller to host) and AUTH_Failure2 (host to controller) (NVMe Base 2.0; Linux
/// <c>struct nvmf_auth_dhchap_failure_data</c>):
/// <code>
/// byte 0-5    common header (type 00h, id F1h or F0h, T_ID)
/// byte 6      RC   reason code, 01h authentication failure
/// byte 7      RCE  reason code explanation (<see cref="AuthFailureReason"/>)
/// </code>
/// </summary>
public static class AuthFailureMessage
{
    /// <summary>Bytes on the wire, as Linux sends them.</summary>
    public const int Size = 8;

    /// <summary>RC: authentication failure.</summary>
    public const byte ReasonCodeFailure = 0x01;

    /// <summary>Writes AUTH_Failure1 (<paramref name="fromController"/>) or AUTH_Failure2; returns <see cref="Size"/>.</summary>
    public static int Write(Span<byte> destination, bool fromController, ushort transactionId, AuthFailureReason reason)
    {
        AuthMessage.WriteHeader(destination, Size, AuthMessageType.Common, fromController ? AuthMessageId.Failure1 : AuthMessageId.Failure2, transactionId);
        destination[6] = ReasonCodeFailure;
        destination[7] = (byte)reason;
        return Size;
    }

    /// <summary>Reads a failure message of either direction: its id, T_ID and reason code explanation.</summary>
    public static bool TryRead(ReadOnlySpan<byte> data, out AuthMessageId id, out ushort transactionId, out AuthFailureReason reason)
    {
        id = default;
        transactionId = 0;
        reason = AuthFailureReason.None;
        if (!AuthMessage.TryReadHeader(data, out var type, out id, out transactionId) || type != AuthMessageType.Common
            || id is not (AuthMessageId.Failure1 or AuthMessageId.Failure2) || data.Length < Size)
        {
            return false;
        }

        reason = (AuthFailureReason)data[7];
        return true;
    }
}
