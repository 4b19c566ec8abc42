// Compiled into both NvmeTcp.Client and NvmeTcp.Target (linked, as tests/Shared files are): the host and the
// controller run the same TLS 1.3 external-PSK session over a socket. Each assembly gets its own internal copy in its
// own namespace, so no type is visible twice.
using System.Net.Sockets;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using NvmeTcp.Protocol.Tls;
using Org.BouncyCastle.Security;
using Org.BouncyCastle.Tls;
using Org.BouncyCastle.Tls.Crypto;
using Org.BouncyCastle.Tls.Crypto.Impl.BC;

#if NVMETCP_TARGET
namespace NvmeTcp.Target.Internal.Transport;
#else
namespace NvmeTcp.Client.Transport;
#endif

/// <summary>Why a TLS session could not be set up or broke.</summary>
internal enum TlsChannelError
{
    /// <summary>This side raised a fatal alert (<see cref="TlsChannelException.Alert"/>): a bad record, a wrong binder.</summary>
    AlertSent,

    /// <summary>The peer sent a fatal alert (<see cref="TlsChannelException.Alert"/>).</summary>
    AlertReceived,

    /// <summary>The peer closed the connection during the handshake without an alert.</summary>
    Closed,
}

/// <summary>A TLS failure of a <see cref="TlsPskChannel"/>; an <see cref="IOException"/>, as any broken stream.</summary>
internal sealed class TlsChannelException : IOException
{
    public TlsChannelException(TlsChannelError error, short alert, string message, Exception? inner = null)
        : base(message, inner)
    {
        Error = error;
        Alert = alert;
    }

    public TlsChannelError Error { get; }

    /// <summary>The TLS AlertDescription (RFC 8446 6), or -1.</summary>
    public short Alert { get; }

    /// <summary>The PSK identities a client offered, when a server handshake failed (identities are not secret).</summary>
    public IReadOnlyList<string> OfferedIdentities { get; set; } = [];

    /// <summary>The alert's RFC name, e.g. <c>decrypt_error</c>.</summary>
    public string AlertName => Alert < 0 ? "none" : AlertDescription.GetName(Alert);
}

/// <summary>
/// A TLS 1.3 session with an external PSK (NVMe/TCP "Transport Layer Security": TLS 1.3, PSK with (EC)DHE,
/// TLS_AES_128_GCM_SHA256 or TLS_AES_256_GCM_SHA384 by the PSK's hash) over a connected socket. BouncyCastle runs in
/// its non-blocking mode: records go in with OfferInput and out with ReadOutput, so all socket I/O here is async and
/// no thread waits on the network.
/// </summary>
/// <remarks>
/// One receiver and one sender may run at once. The protocol object is guarded by a lock held only around
/// BouncyCastle calls, never across an await. What reaches the socket is serialized by <see cref="_sendGate"/>, which
/// the receiver takes too on the rare occasion that input produces output (a KeyUpdate answer, an alert).
/// Copies: socket to <see cref="_rxRecords"/>, where each whole record is decrypted in place, into BouncyCastle's
/// application data queue, then out into the caller's array; BouncyCastle's non-blocking API allows no fewer.
/// </remarks>
internal sealed class TlsPskChannel : IDisposable
{
    /// <summary>The most plaintext in one TLS record (RFC 8446 5.1: 2^14).</summary>
    public const int MaxRecordPlaintext = 16384;

    // TLS record content type handshake (RFC 8446 5.1): the first byte of a ClientHello, where an ICReq has 00h.
    public const byte HandshakeContentType = 0x16;

    // Sends are encrypted and written this much plaintext at a time: eight full records (a 128 KiB PDU) per system call.
    private const int SendChunk = 8 * MaxRecordPlaintext;

    // A record's header (RFC 8446 5.1: type, legacy version, length) and the most a TLS 1.3 record may carry after it
    // (5.2: 2^14 + 256).
    private const int RecordHeaderLength = 5;
    private const int MaxRecordLength = RecordHeaderLength + MaxRecordPlaintext + 256;

    // Ciphertext is received into this much space; a partial record is moved to the front only when less than one
    // record's room is left behind it.
    private const int ReceiveBufferSize = 256 * 1024;

    private readonly Socket _socket;
    private readonly TlsProtocol _tls;
    private readonly object _lock = new();
    private readonly SemaphoreSlim _sendGate = new(1, 1);
    // Received ciphertext: [_rxStart, _rxEnd) is what has not yet gone to BouncyCastle, whole records first.
    private readonly byte[] _rxRecords = GC.AllocateUninitializedArray<byte>(ReceiveBufferSize, pinned: true);
    private int _rxStart;
    private int _rxEnd;
    private readonly byte[] _txRecords = GC.AllocateUninitializedArray<byte>(SendChunk + (8 * 256), pinned: true);
    private readonly byte[] _txPlain = GC.AllocateUninitializedArray<byte>(MaxRecordPlaintext);
    private byte[]? _rxPlain;
    private bool _peerClosed;

    private ITlsChannelPeer? _peer;

    private TlsPskChannel(Socket socket, TlsProtocol tls)
    {
        _socket = socket;
        _tls = tls;
    }

    /// <summary>The PSK identity the session was established with.</summary>
    public string? Identity => _peer?.SelectedIdentity;

    /// <summary>The negotiated cipher suite (IANA value), e.g. 0x1301 for TLS_AES_128_GCM_SHA256.</summary>
    public int CipherSuite => _peer?.SelectedSuite ?? -1;

    /// <summary>The negotiated cipher suite's name.</summary>
    public string CipherSuiteName => CipherSuite switch
    {
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256 => "TLS_AES_128_GCM_SHA256",
        Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384 => "TLS_AES_256_GCM_SHA384",
        var other => $"0x{other:X4}",
    };

    /// <summary>The underlying socket.</summary>
    public Socket Socket => _socket;

    /// <summary>Runs the client handshake with <paramref name="psk"/> over a connected socket.</summary>
    /// <exception cref="TlsChannelException">The handshake failed (alert sent or received, or the peer closed).</exception>
    /// <exception cref="SocketException">The socket failed.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> fired (the caller's deadline).</exception>
    public static async Task<TlsPskChannel> ConnectAsync(Socket socket, NvmeTlsPsk psk, CancellationToken cancellationToken, bool? netAesGcm = null)
    {
        var protocol = new TlsClientProtocol();
        var channel = new TlsPskChannel(socket, protocol);
        var client = new PskClient(NewCrypto(netAesGcm), psk);
        channel._peer = client;
        channel.Guard(() => protocol.Connect(client));
        await channel.HandshakeAsync(cancellationToken).ConfigureAwait(false);
        return channel;
    }

    /// <summary>
    /// Runs the server handshake: the client's PSK identity is looked up with <paramref name="lookup"/> (null: unknown,
    /// the handshake fails). The socket's first byte should already have been seen to be a TLS handshake record.
    /// </summary>
    /// <exception cref="TlsChannelException">The handshake failed.</exception>
    public static async Task<TlsPskChannel> AcceptAsync(Socket socket, Func<string, NvmeTlsPsk?> lookup, CancellationToken cancellationToken, bool? netAesGcm = null)
    {
        var protocol = new TlsServerProtocol();
        var channel = new TlsPskChannel(socket, protocol);
        var server = new PskServer(NewCrypto(netAesGcm), lookup);
        channel._peer = server;
        try
        {
            channel.Guard(() => protocol.Accept(server));
            await channel.HandshakeAsync(cancellationToken).ConfigureAwait(false);
            return channel;
        }
        catch (TlsChannelException e)
        {
            e.OfferedIdentities = [.. server.Offered];
            throw;
        }
    }

    /// <summary>Whether record protection uses .NET's AesGcm (<see cref="AesGcmTlsCrypto"/>) when not told otherwise.</summary>
    public const bool DefaultNetAesGcm = true;

    // netAesGcm: the A/B switch of the benchmarks; null takes the default.
    private static BcTlsCrypto NewCrypto(bool? netAesGcm) =>
        (netAesGcm ?? DefaultNetAesGcm) && AesGcmTlsCrypto.IsSupported ? new AesGcmTlsCrypto(new SecureRandom()) : new BcTlsCrypto(new SecureRandom());

    private async Task HandshakeAsync(CancellationToken cancellationToken)
    {
        // A TLS 1.3 PSK handshake is two flights each way, three with a HelloRetryRequest; the loop ends when the
        // handshake does, when the peer closes, or when the caller's deadline cancels the receive.
        while (true)
        {
            await FlushAsync(cancellationToken).ConfigureAwait(false);
            if (!IsHandshaking())
            {
                return;
            }

            if (!await ReceiveRecordsAsync(cancellationToken).ConfigureAwait(false))
            {
                throw new TlsChannelException(TlsChannelError.Closed, -1, "the peer closed the connection during the TLS handshake");
            }

            try
            {
                // Records one at a time, and none after the handshake's last: what follows it stays here, aligned on
                // a record, for ReceiveAsync.
                lock (_lock)
                {
                    while (_tls.IsHandshaking && OfferRecord())
                    {
                    }
                }
            }
            catch (TlsChannelException e) when (e.Error == TlsChannelError.AlertSent)
            {
                // Let the peer know why (the alert BouncyCastle queued), as far as the socket still takes it.
                await TrySendAlertAsync().ConfigureAwait(false);
                throw;
            }
        }
    }

    private bool IsHandshaking()
    {
        lock (_lock)
        {
            return _tls.IsHandshaking;
        }
    }

    /// <summary>Reads decrypted bytes into <paramref name="buffer"/>; 0 once the peer has closed (TCP FIN or close_notify).</summary>
    /// <exception cref="TlsChannelException">A record was rejected (bad_record_mac, a record too long) or the peer sent an alert.</exception>
    public ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        if (buffer.IsEmpty)
        {
            return ValueTask.FromResult(0);
        }

        var taken = TakeBuffered(buffer);
        return taken > 0 ? ValueTask.FromResult(taken) : ReceiveSlowAsync(buffer, cancellationToken);
    }

    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    private async ValueTask<int> ReceiveSlowAsync(Memory<byte> buffer, CancellationToken cancellationToken)
    {
        while (true)
        {
            // Whole records already received first, one at a time until one yields application data; the socket only
            // when none is left.
            bool output;
            lock (_lock)
            {
                while (!_peerClosed && _tls.GetAvailableInputBytes() == 0 && OfferRecord())
                {
                    _peerClosed = _tls.IsClosed;
                }

                output = _tls.GetAvailableOutputBytes() > 0;
            }

            if (output)
            {
                // Input that asks for an answer (KeyUpdate with update_requested, RFC 8446 4.6.3).
                await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
                try
                {
                    await FlushAsync(cancellationToken).ConfigureAwait(false);
                }
                finally
                {
                    _sendGate.Release();
                }
            }

            var taken = TakeBuffered(buffer);
            if (taken > 0)
            {
                return taken;
            }

            if (_peerClosed || !await ReceiveRecordsAsync(cancellationToken).ConfigureAwait(false))
            {
                return 0;
            }
        }
    }

    // Receives more ciphertext behind what is held; false when the peer has closed.
    private async ValueTask<bool> ReceiveRecordsAsync(CancellationToken cancellationToken)
    {
        if (_rxRecords.Length - _rxEnd < MaxRecordLength)
        {
            // Less than a record's room left: the partial record (under MaxRecordLength) moves to the front.
            _rxRecords.AsSpan(_rxStart, _rxEnd - _rxStart).CopyTo(_rxRecords);
            _rxEnd -= _rxStart;
            _rxStart = 0;
        }

        var read = await _socket.ReceiveAsync(_rxRecords.AsMemory(_rxEnd), SocketFlags.None, cancellationToken).ConfigureAwait(false);
        _rxEnd += read;
        return read > 0;
    }

    // Gives BouncyCastle the next whole record held, if there is one. A whole record alone takes its fast path: it is
    // opened where it lies, with no copy into BouncyCastle's input queue. The caller holds _lock.
    private bool OfferRecord()
    {
        var held = _rxEnd - _rxStart;
        if (held < RecordHeaderLength)
        {
            return false;
        }

        var type = _rxRecords[_rxStart];
        var length = RecordHeaderLength + ((_rxRecords[_rxStart + 3] << 8) | _rxRecords[_rxStart + 4]);
        if (length > MaxRecordLength || type is < 20 or > 24 || _rxRecords[_rxStart + 1] != 3)
        {
            // Not a record TLS allows (too long, no content type of RFC 8446 5.1, not version 3.x; a plain NVMe/TCP
            // PDU, say): the header alone lets BouncyCastle raise its alert before anything more is awaited.
            length = RecordHeaderLength;
        }
        else if (held < length)
        {
            return false;
        }

        try
        {
            _tls.OfferInput(_rxRecords, _rxStart, length);
        }
        catch (Exception e)
        {
            throw Map(e);
        }

        _rxStart += length;
        if (_rxStart == _rxEnd)
        {
            _rxStart = _rxEnd = 0;
        }

        return true;
    }

    // Moves decrypted bytes already in BouncyCastle's queue into the caller's memory.
    private int TakeBuffered(Memory<byte> buffer)
    {
        lock (_lock)
        {
            var available = _tls.GetAvailableInputBytes();
            if (available == 0)
            {
                return 0;
            }

            var count = Math.Min(available, buffer.Length);
            if (MemoryMarshal.TryGetArray<byte>(buffer, out var segment))
            {
                return _tls.ReadInput(segment.Array!, segment.Offset, count);
            }

            // Memory not backed by an array (native, say): through a scratch array, since ReadInput takes arrays only.
            _rxPlain ??= new byte[MaxRecordPlaintext];
            count = Math.Min(count, _rxPlain.Length);
            var read = _tls.ReadInput(_rxPlain, 0, count);
            _rxPlain.AsSpan(0, read).CopyTo(buffer.Span);
            return read;
        }
    }

    /// <summary>Encrypts and sends <paramref name="data"/>.</summary>
    public ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        SendAsync(data, ReadOnlyMemory<byte>.Empty, ReadOnlyMemory<byte>.Empty, cancellationToken);

    /// <summary>
    /// Encrypts and sends the three pieces in order, gathered into full records (a PDU's header, data and digest become
    /// one record when they fit 16 KiB, rather than three).
    /// </summary>
    public async ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, CancellationToken cancellationToken)
    {
        await _sendGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            var piece = 0;
            var offset = 0;
            while (true)
            {
                var length = SealNext(first, second, third, ref piece, ref offset);
                if (length == 0)
                {
                    return;
                }

                await SendRecordsAsync(length, cancellationToken).ConfigureAwait(false);
                await FlushAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        finally
        {
            _sendGate.Release();
        }
    }

    // Seals up to SendChunk plaintext bytes of the pieces, from (piece, offset) on, as full records and takes them out
    // into _txRecords; returns their length, 0 when nothing is left. Whole records of a long piece are sealed straight
    // from the caller's memory; only what shares a record with another piece (a PDU header, the data's tail and its
    // digest) is gathered into _txPlain first, so a PDU's pieces still leave as full records. Sealed and taken out in
    // one hold of the lock, so that output pending outside it is only ever what the receiver's input produced (which the
    // receiver then sends), never part of a send.
    private int SealNext(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, ref int piece, ref int offset)
    {
        lock (_lock)
        {
            try
            {
                var sealedPlain = 0;
                while (piece < 3 && sealedPlain < SendChunk)
                {
                    var source = Rest(first, second, third, piece, offset);
                    if (source.IsEmpty)
                    {
                        piece++;
                        offset = 0;
                        continue;
                    }

                    if (source.Length >= MaxRecordPlaintext)
                    {
                        // sealedPlain is a multiple of a record here: only a gathered record at the very end is shorter.
                        var direct = Math.Min(source.Length, SendChunk - sealedPlain) / MaxRecordPlaintext * MaxRecordPlaintext;
                        _tls.WriteApplicationData(source[..direct]);
                        offset += direct;
                        sealedPlain += direct;
                        continue;
                    }

                    var filled = 0;
                    while (filled < MaxRecordPlaintext && piece < 3)
                    {
                        var part = Rest(first, second, third, piece, offset);
                        var count = Math.Min(part.Length, MaxRecordPlaintext - filled);
                        part[..count].CopyTo(_txPlain.AsSpan(filled));
                        filled += count;
                        offset += count;
                        if (count == part.Length)
                        {
                            piece++;
                            offset = 0;
                        }
                    }

                    _tls.WriteApplicationData(_txPlain.AsSpan(0, filled));
                    sealedPlain += filled;
                }

                return sealedPlain == 0 ? 0 : _tls.ReadOutput(_txRecords, 0, _txRecords.Length);
            }
            catch (Exception e)
            {
                throw Map(e);
            }
        }

        static ReadOnlySpan<byte> Rest(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, int piece, int offset) =>
            (piece == 0 ? first : piece == 1 ? second : third).Span[offset..];
    }

    // Sends whatever records BouncyCastle has produced. The caller holds _sendGate, or is the handshake (alone).
    private async ValueTask FlushAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int length;
            lock (_lock)
            {
                length = _tls.ReadOutput(_txRecords, 0, _txRecords.Length);
            }

            if (length == 0)
            {
                return;
            }

            await SendRecordsAsync(length, cancellationToken).ConfigureAwait(false);
        }
    }

    private async ValueTask SendRecordsAsync(int length, CancellationToken cancellationToken)
    {
        var data = _txRecords.AsMemory(0, length);
        while (!data.IsEmpty)
        {
            var sent = await _socket.SendAsync(data, SocketFlags.None, cancellationToken).ConfigureAwait(false);
            data = data[sent..];
        }
    }

    private async Task TrySendAlertAsync()
    {
        try
        {
            using var bound = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            await FlushAsync(bound.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            // The peer is gone already: the local error is what matters.
        }
    }

    private void Guard(Action action)
    {
        lock (_lock)
        {
            try
            {
                action();
            }
            catch (Exception e)
            {
                throw Map(e);
            }
        }
    }

    private static Exception Map(Exception e) => e switch
    {
        TlsChannelException => e,
        TlsFatalAlertReceived received => new TlsChannelException(TlsChannelError.AlertReceived, received.AlertDescription, $"the peer sent the TLS alert {AlertDescription.GetText(received.AlertDescription)}", e),
        TlsFatalAlert sent => new TlsChannelException(TlsChannelError.AlertSent, sent.AlertDescription, $"TLS alert {AlertDescription.GetText(sent.AlertDescription)} raised: {sent.Message}", e),
        TlsException or IOException => new TlsChannelException(TlsChannelError.AlertSent, AlertDescription.internal_error, $"TLS failed: {e.Message}", e),
        _ => e,
    };

    /// <inheritdoc/>
    /// <remarks>
    /// The records hold ciphertext only, and the plaintext scratch PDUs (no keys): nothing to wipe. The send gate is
    /// not disposed: a sender or receiver may still be leaving it after an abort, and a SemaphoreSlim whose wait
    /// handle was never asked for holds nothing to release.
    /// </remarks>
    public void Dispose() => _socket.Dispose();

    private static int Suite(NvmeTlsPskHash hash) =>
        hash == NvmeTlsPskHash.Sha384 ? Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384 : Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256;

    private static BasicTlsPskExternal External(TlsCrypto crypto, NvmeTlsPsk psk)
    {
        var prf = psk.Hash == NvmeTlsPskHash.Sha384 ? PrfAlgorithm.tls13_hkdf_sha384 : PrfAlgorithm.tls13_hkdf_sha256;

        // The secret keeps the array it is given for the handshake's key schedule: not ours to wipe.
        return new BasicTlsPskExternal(Encoding.UTF8.GetBytes(psk.Identity), crypto.CreateSecret(psk.CopyKey()), prf);
    }

    // The key exchange groups offered with psk_dhe_ke. tlshd's PSK priority strings (ktls-utils ktls.c) set no groups,
    // so GnuTLS's defaults apply (the NIST curves and x25519 first, then FFDHE); OpenSSL's defaults start with x25519.
    // Key shares go with x25519 and secp256r1, so that either answers in one round trip; others cost a
    // HelloRetryRequest, which BouncyCastle handles.
    private static readonly int[] Groups = [NamedGroup.x25519, NamedGroup.secp256r1, NamedGroup.secp384r1, NamedGroup.ffdhe2048, NamedGroup.ffdhe3072];

    private interface ITlsChannelPeer
    {
        public string? SelectedIdentity { get; }

        public int SelectedSuite { get; }
    }

    private sealed class PskClient(TlsCrypto crypto, NvmeTlsPsk psk) : AbstractTlsClient(crypto), ITlsChannelPeer
    {
        public string? SelectedIdentity { get; private set; }

        public int SelectedSuite { get; private set; } = -1;

        public override IList<TlsPskExternal> GetExternalPsks() => [External(Crypto, psk)];

        // No certificates: a server that does not select the PSK has nothing to authenticate with.
        public override TlsAuthentication GetAuthentication() => throw new TlsFatalAlert(AlertDescription.handshake_failure, "the server did not select the PSK");

        public override IList<int> GetEarlyKeyShareGroups() => [NamedGroup.x25519, NamedGroup.secp256r1];

        public override void NotifySelectedCipherSuite(int selectedCipherSuite)
        {
            base.NotifySelectedCipherSuite(selectedCipherSuite);
            SelectedSuite = selectedCipherSuite;
        }

        public override void NotifySelectedPsk(TlsPsk selectedPsk)
        {
            base.NotifySelectedPsk(selectedPsk);
            SelectedIdentity = selectedPsk is null ? null : psk.Identity;
        }

        protected override IList<int> GetSupportedGroups(IList<int> namedGroupRoles) => Groups;

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() => [Suite(psk.Hash)];
    }

    private sealed class PskServer(TlsCrypto crypto, Func<string, NvmeTlsPsk?> lookup) : AbstractTlsServer(crypto), ITlsChannelPeer
    {
        public List<string> Offered { get; } = [];

        public string? SelectedIdentity { get; private set; }

        public int SelectedSuite { get; private set; } = -1;

        // Without certificates: a handshake that selects no PSK fails (GetExternalPsk refuses it first).
        public override TlsCredentials GetCredentials() => null!;

        public override TlsPskExternal? GetExternalPsk(IList<PskIdentity> identities)
        {
            foreach (var offered in identities)
            {
                var text = Encoding.UTF8.GetString(offered.Identity);
                Offered.Add(text);
                if (lookup(text) is { } psk)
                {
                    SelectedIdentity = text;
                    return External(Crypto, psk);
                }
            }

            // No certificate to fall back on: say why (RFC 8446 6.2 lets a server that will not go on without a PSK
            // send unknown_psk_identity).
            throw new TlsFatalAlert(AlertDescription.unknown_psk_identity, "no PSK for the identities offered");
        }

        public override int GetSelectedCipherSuite() => SelectedSuite = base.GetSelectedCipherSuite();

        public override int[] GetSupportedGroups() => Groups;

        protected override ProtocolVersion[] GetSupportedVersions() => ProtocolVersion.TLSv13.Only();

        protected override int[] GetSupportedCipherSuites() =>
            [Org.BouncyCastle.Tls.CipherSuite.TLS_AES_128_GCM_SHA256, Org.BouncyCastle.Tls.CipherSuite.TLS_AES_256_GCM_SHA384];
    }
}
