using System.IO.Pipelines;
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
    private readonly TcpListener? _listener;
    private readonly InMemoryLink? _link;
    private Socket? _socket;
    private Stream? _stream;
    private byte[] _buffer = new byte[1 << 20];
    private int _start;
    private int _end;

    private ScriptedController(TcpListener listener)
    {
        _listener = listener;
    }

    private ScriptedController(InMemoryLink link)
    {
        _link = link;
    }

    public IPEndPoint EndPoint => (IPEndPoint?)_listener?.LocalEndpoint ?? InMemoryLink.EndPoint;

    public PduCodecOptions Codec { get; private set; } = PduCodecOptions.ControllerBeforeInitialize(1 << 20);

    public static ScriptedController Start()
    {
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return new ScriptedController(listener);
    }

    /// <summary>
    /// A controller over an in-memory pipe instead of a socket: the host's sends complete only as this side reads
    /// them (at most <paramref name="hostSendWindow"/> bytes ahead), so a test decides when the host's writer is stuck.
    /// </summary>
    public static ScriptedController InMemory(int hostSendWindow = 1 << 20, Func<ConnectionTransport, ConnectionTransport>? wrap = null) =>
        new(new InMemoryLink(hostSendWindow)) { _wrap = wrap };

    private Func<ConnectionTransport, ConnectionTransport>? _wrap;

    /// <summary>The host's end of an in-memory link, once connected.</summary>
    public ConnectionTransport? HostTransport { get; private set; }

    /// <summary>Waits (polling, bounded) until the host has sent at least <paramref name="bytes"/> this side has not read.</summary>
    public async Task WaitForUnreadAsync(int bytes, TimeSpan bound)
    {
        var deadline = Environment.TickCount64 + (long)bound.TotalMilliseconds;
        while (_link!.UnreadHostBytes() < bytes)
        {
            Assert.True(Environment.TickCount64 < deadline, $"the host sent {_link.UnreadHostBytes()} bytes, not {bytes}");
            await Task.Delay(1);
        }
    }

    /// <summary>Connects a client queue and answers its ICReq with <paramref name="response"/> (default: grant what was asked).</summary>
    public async Task<QueueConnection> ConnectAsync(QueueConnectionOptions options, Func<IcReqPdu, IcRespPdu>? response = null)
    {
        if (_link is { } link)
        {
            HostTransport = link.HostTransport();
            HostTransport = _wrap?.Invoke(HostTransport) ?? HostTransport;
        }

        var client = HostTransport is { } transport
            ? QueueConnection.StartAsync(transport, options, CancellationToken.None)
            : QueueConnection.ConnectAsync(EndPoint, options, CancellationToken.None);
        await AcceptAsync(response);
        return await client.WaitAsync(Step);
    }

    public async Task AcceptAsync(Func<IcReqPdu, IcRespPdu>? response = null)
    {
        if (_link is { } link)
        {
            _stream = link.ControllerStream;
        }
        else
        {
            _stream?.Dispose();
            _socket?.Dispose();
            _socket = await _listener!.AcceptSocketAsync().WaitAsync(Step);
            _stream = new NetworkStream(_socket, ownsSocket: false);
        }

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

            var read = await _stream!.ReadAsync(_buffer.AsMemory(_end), timeout.Token);
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

    public Task SendAsync(ReadOnlyMemory<byte> bytes) => _stream!.WriteAsync(bytes).AsTask().WaitAsync(Step);

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

                var read = await _stream!.ReadAsync(_buffer.AsMemory(_end), timeout.Token);
                if (read == 0)
                {
                    break;
                }

                _end += read;
            }
        }
        catch (IOException)
        {
        }

        return _buffer.AsSpan(_start, _end - _start).ToArray();
    }

    /// <summary>Sends FIN after what was sent (unlike a close, unread host data does not turn it into a RST).</summary>
    public void CloseSend()
    {
        if (_link is { } link)
        {
            link.CloseControllerSend();
        }
        else
        {
            _socket!.Shutdown(SocketShutdown.Send);
        }
    }

    public void Abort()
    {
        if (_link is { } link)
        {
            link.Abort();
            return;
        }

        _socket!.LingerState = new LingerOption(true, 0);
        _socket.Dispose();
    }

    public ValueTask DisposeAsync()
    {
        _stream?.Dispose();
        _socket?.Dispose();
        _listener?.Stop();
        _link?.Abort();
        return ValueTask.CompletedTask;
    }
}
