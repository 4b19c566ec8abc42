using System.Buffers.Binary;
using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol;

namespace NvmeTcp.Interop.Tests.Raw;

/// <summary>A received PDU: its validated header and a copy of its data.</summary>
internal sealed record ReceivedPdu(ReceivedHeader Header, byte[] Data);

/// <summary>
/// One NVMe/TCP queue over a plain <see cref="Socket"/>, driven one PDU at a time with our Protocol layer: enough to
/// test the target before the client library exists. Every receive is bounded by the caller's token.
/// </summary>
internal sealed class RawConnection : IAsyncDisposable
{
    // Identify and log pages are at most a few KiB; nothing these tests ask for comes near.
    private const uint MaxDataLength = 1 << 20;

    private readonly Socket _socket;
    private byte[] _buffer = new byte[64 * 1024];
    private int _start;
    private int _end;

    private RawConnection(Socket socket)
    {
        _socket = socket;
        Options = PduCodecOptions.HostBeforeInitialize(MaxDataLength);
    }

    /// <summary>The codec state: before the ICResp, then what was negotiated.</summary>
    public PduCodecOptions Options { get; private set; }

    public static async Task<RawConnection> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new RawConnection(socket);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>Sends ICReq (HPDA 0, MAXR2T 0) and returns the decoded ICResp; afterwards capsules may flow.</summary>
    public async Task<IcRespPdu> InitializeAsync(DigestTypes digests, CancellationToken cancellationToken)
    {
        var icReq = new IcReqPdu(0, 0, digests, 0);
        var pdu = new byte[IcReqPdu.Length];
        icReq.Encode(pdu);
        await _socket.SendAsync(pdu, SocketFlags.None, cancellationToken);

        var received = await ReceiveAsync(cancellationToken);
        Assert.Equal(PduType.ICResp, received.Header.Type);
        var icResp = received.Header.IcResp;
        Options = Options.AfterInitialize(icReq, icResp);
        return icResp;
    }

    /// <summary>Sends a CapsuleCmd, with in-capsule data when <paramref name="data"/> is not empty.</summary>
    public async Task SendCommandAsync(Sqe sqe, ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        var layout = PduLayout.Of(PduType.CapsuleCmd, data.Length, Options);
        var pdu = new byte[layout.Plen];
        CapsuleCmdPdu.EncodePrefix(pdu, sqe, data.Length, Options);
        if (data.Length != 0)
        {
            data.Span.CopyTo(pdu.AsSpan(layout.Pdo));
            if (layout.DataDigestLength != 0)
            {
                Crc32C.Write(pdu.AsSpan(layout.Pdo + data.Length), Crc32C.Compute(data.Span));
            }
        }

        await _socket.SendAsync(pdu, SocketFlags.None, cancellationToken);
    }

    /// <summary>
    /// Sends a command and collects its completion; C2HData on the way is copied into <paramref name="response"/>.
    /// A C2HData with SUCCESS ends the command without a CapsuleResp (a zero CQE stands for it).
    /// </summary>
    public async Task<Cqe> ExecuteAsync(Sqe sqe, ReadOnlyMemory<byte> data, Memory<byte> response, CancellationToken cancellationToken)
    {
        await SendCommandAsync(sqe, data, cancellationToken);
        for (var pdus = 0; pdus < 64; pdus++)
        {
            var received = await ReceiveAsync(cancellationToken);
            switch (received.Header.Type)
            {
                case PduType.CapsuleResp:
                    var cqe = received.Header.Cqe;
                    Assert.Equal(sqe.Cid, cqe.Cid);
                    return cqe;
                case PduType.C2HData:
                    var c2h = received.Header.C2HData;
                    Assert.Equal(sqe.Cid, c2h.Cccid);
                    received.Data.CopyTo(response[(int)c2h.Datao..]);
                    if (c2h.Success)
                    {
                        return new Cqe(0, 0, 0, 0, sqe.Cid, default);
                    }

                    break;
                default:
                    Assert.Fail($"Unexpected {received.Header.Type} PDU for CID {sqe.Cid}.");
                    break;
            }
        }

        Assert.Fail($"No completion for CID {sqe.Cid} within 64 PDUs.");
        return default;
    }

    /// <summary>Receives and validates one PDU; a C2HTermReq, a closed socket or an invalid PDU fails the test.</summary>
    public async Task<ReceivedPdu> ReceiveAsync(CancellationToken cancellationToken)
    {
        await FillAsync(PduHeader.Size, cancellationToken);
        var plen = BinaryPrimitives.ReadUInt32LittleEndian(_buffer.AsSpan(_start + PduHeader.PlenOffset));
        if (plen < PduHeader.Size || plen > MaxDataLength + 256)
        {
            Assert.Fail($"Received a PDU with PLEN {plen}.");
        }

        await FillAsync((int)plen, cancellationToken);
        var bytes = _buffer.AsSpan(_start, (int)plen);
        var status = PduDecoder.TryDecode(bytes, Options, out var header, out var data, out var error);
        if (status == DecodeStatus.Invalid && bytes[0] == (byte)PduType.C2HTermReq)
        {
            var termReq = TermReqPdu.Read(bytes);
            Assert.Fail($"The target sent a C2HTermReq: FES {(int)termReq.Fes}, FEI {termReq.Fei}.");
        }

        Assert.True(status == DecodeStatus.Done, $"Decoding a {(PduType)bytes[0]} PDU: {status} {error}");
        var copy = data.ToArray();
        _start += header.Length;
        return new ReceivedPdu(header, copy);
    }

    private async Task FillAsync(int count, CancellationToken cancellationToken)
    {
        if (_start + count > _buffer.Length)
        {
            var larger = new byte[Math.Max(_buffer.Length, count)];
            _buffer.AsSpan(_start, _end - _start).CopyTo(larger);
            _end -= _start;
            _start = 0;
            _buffer = larger;
        }

        while (_end - _start < count)
        {
            var read = await _socket.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, cancellationToken);
            if (read == 0)
            {
                Assert.Fail($"The target closed the connection ({_end - _start} of {count} bytes received).");
            }

            _end += read;
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
