using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>
/// A controller whose every PDU a test writes by hand, over a real loopback socket, with our Protocol layer: for
/// driving the client's transport into exact situations (bad PDUs, stale CIDs, digests, timeouts).
/// </summary>
internal sealed class ScriptedController : IAsyncDisposable
{
    private static readonly TimeSpan Step = TimeSpan.FromSeconds(10);
    private readonly TcpListener _listener;
    private Socket? _socket;
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;

    private ScriptedController(TcpListener listener)
    {
        _listener = listener;
    }

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public PduCodecOptions Codec { get; private set; } = PduCodecOptions.ControllerBeforeInitialize(1 << 20);

    public static ScriptedController Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ScriptedController(listener);
    }

    /// <summary>Connects a client queue and answers its ICReq with <paramref name="response"/> (default: grant what was asked).</summary>
    public async Task<QueueConnection> ConnectAsync(QueueConnectionOptions options, Func<IcReqPdu, IcRespPdu>? response = null)
    {
        var client = QueueConnection.ConnectAsync(EndPoint, options, CancellationToken.None);
        await AcceptAsync(response);
        return await client.WaitAsync(Step);
    }

    public async Task AcceptAsync(Func<IcReqPdu, IcRespPdu>? response = null)
    {
        _socket?.Dispose();
        _socket = await _listener.AcceptSocketAsync().WaitAsync(Step);

        // A controller may serve one connection after another: nothing of the last one's stream is kept.
        _start = _end = 0;
        Codec = PduCodecOptions.ControllerBeforeInitialize(1 << 20);
        var (header, _) = await ReadPduAsync();
        Assert.Equal(PduType.ICReq, header.Type);
        var request = header.IcReq;
        var icResp = response?.Invoke(request) ?? new IcRespPdu(0, 0, request.Digests, 128 * 1024);
        var bytes = new byte[IcRespPdu.Length];
        icResp.Encode(bytes);
        await SendAsync(bytes);
        if (icResp.Pfv == 0 && icResp.Digests == request.Digests && icResp.MaxH2CData >= 4096)
        {
            Codec = Codec.AfterInitialize(request, icResp);
        }
    }

    /// <summary>Reads and validates one PDU from the host; returns its header and data.</summary>
    public async Task<(ReceivedHeader Header, byte[] Data)> ReadPduAsync()
    {
        using var timeout = new CancellationTokenSource(Step);
        while (true)
        {
            var status = PduDecoder.TryDecode(_buffer.AsSpan(_start, _end - _start), Codec, out var header, out var data, out var error);
            if (status is DecodeStatus.Done or DecodeStatus.DataDigestError)
            {
                var copy = data.ToArray();
                _start += header.Length;
                return (header, copy);
            }

            Assert.True(status == DecodeStatus.NeedMoreData, $"host sent an invalid PDU: {error}");
            if (_end == _buffer.Length)
            {
                Array.Copy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            var read = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, timeout.Token);
            if (read == 0)
            {
                throw new EndOfStreamException("host closed");
            }

            _end += read;
        }
    }

    /// <summary>Reads the next command capsule; returns its SQE and in-capsule data.</summary>
    public async Task<(Sqe Sqe, byte[] Data)> ReadCommandAsync()
    {
        var (header, data) = await ReadPduAsync();
        Assert.Equal(PduType.CapsuleCmd, header.Type);
        return (header.Sqe, data);
    }

    public Task SendAsync(ReadOnlyMemory<byte> bytes) => _socket!.SendAsync(bytes, SocketFlags.None).AsTask().WaitAsync(Step);

    public Task SendResponseAsync(ushort cid, NvmeStatus status = default, uint dw0 = 0)
    {
        var bytes = new byte[64];
        var length = CapsuleRespPdu.Encode(bytes, new Cqe(dw0, 0, 0, 0, cid, status), Codec);
        return SendAsync(bytes.AsMemory(0, length));
    }

    public Task SendC2HDataAsync(ushort cid, uint offset, ReadOnlySpan<byte> data, bool last, bool success = false, bool corruptDigest = false)
    {
        var pdu = new byte[256 + data.Length];
        var layout = new C2HDataPdu(cid, offset, (uint)data.Length, last, success).EncodePrefix(pdu, Codec);
        data.CopyTo(pdu.AsSpan(layout.Pdo));
        var length = layout.Pdo + data.Length;
        if (layout.DataDigestLength != 0)
        {
            Crc32C.Write(pdu.AsSpan(length), Crc32C.Compute(data) ^ (corruptDigest ? 1u : 0u));
            length += 4;
        }

        return SendAsync(pdu.AsMemory(0, length));
    }

    public Task SendR2TAsync(ushort cid, ushort ttag, uint offset, uint length)
    {
        var bytes = new byte[64];
        var size = new R2TPdu(cid, ttag, offset, length).Encode(bytes, Codec);
        return SendAsync(bytes.AsMemory(0, size));
    }

    /// <summary>Waits until the host closes the connection; returns what it sent before (e.g. an H2CTermReq).</summary>
    public async Task<byte[]> ReadUntilClosedAsync()
    {
        using var timeout = new CancellationTokenSource(Step);
        try
        {
            while (true)
            {
                if (_end == _buffer.Length)
                {
                    Array.Resize(ref _buffer, _buffer.Length * 2);
                }

                var read = await _socket!.ReceiveAsync(_buffer.AsMemory(_end), SocketFlags.None, timeout.Token);
                if (read == 0)
                {
                    break;
                }

                _end += read;
            }
        }
        catch (SocketException)
        {
        }

        return _buffer.AsSpan(_start, _end - _start).ToArray();
    }

    /// <summary>Sends FIN after what was sent (unlike a close, unread host data does not turn it into a RST).</summary>
    public void CloseSend() => _socket!.Shutdown(SocketShutdown.Send);

    public void Abort()
    {
        _socket!.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _socket?.Dispose();
        _listener.Stop();
        return ValueTask.CompletedTask;
    }
}
