using System.IO.Pipelines;
using System.Net;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>
/// A connection between a host and a controller in memory: two pipes. What the host sends waits in the host-to-controller
/// pipe until the controller reads it, and a host send does not complete while more than a window's worth is unread,
/// so a test can hold the host's writer in the middle of a send as a full socket would, deterministically.
/// </summary>
internal sealed class InMemoryLink
{
    public static readonly IPEndPoint EndPoint = new(IPAddress.Loopback, 4420);

    private readonly Pipe _hostToController;
    private readonly Pipe _controllerToHost = new(new PipeOptions(pauseWriterThreshold: 0, useSynchronizationContext: false));

    public InMemoryLink(int hostSendWindow)
    {
        _hostToController = new Pipe(new PipeOptions(pauseWriterThreshold: hostSendWindow, resumeWriterThreshold: hostSendWindow, useSynchronizationContext: false));
        ControllerStream = new DuplexStream(_hostToController.Reader, _controllerToHost.Writer);
    }

    /// <summary>The controller's end.</summary>
    public Stream ControllerStream { get; }

    /// <summary>The host's end, as the client's transport seam.</summary>
    public ConnectionTransport HostTransport() => new StreamTransport(new DuplexStream(_controllerToHost.Reader, _hostToController.Writer), EndPoint);

    /// <summary>Bytes the host sent that the controller has not read yet (a peek: nothing is consumed).</summary>
    public long UnreadHostBytes()
    {
        var reader = _hostToController.Reader;
        if (!reader.TryRead(out var result))
        {
            return 0;
        }

        var length = result.Buffer.Length;
        reader.AdvanceTo(result.Buffer.Start);
        return length;
    }

    /// <summary>End of stream for the host after what the controller sent (FIN).</summary>
    public void CloseControllerSend() => _controllerToHost.Writer.Complete();

    /// <summary>Breaks both directions (a reset).</summary>
    public void Abort()
    {
        _controllerToHost.Writer.Complete(new IOException("connection reset by the controller"));
        _hostToController.Reader.CancelPendingRead();
        _hostToController.Reader.Complete(new IOException("connection reset by the controller"));
    }

    /// <summary>The client's transport seam over a <see cref="Stream"/>.</summary>
    private sealed class StreamTransport(Stream stream, EndPoint remote) : ConnectionTransport
    {
        public override EndPoint RemoteEndPoint { get; } = remote;

        public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
            stream.ReadAsync(buffer, cancellationToken);

        public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
            stream.WriteAsync(data, cancellationToken);

        public override void Abort() => stream.Dispose();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                stream.Dispose();
            }
        }
    }

    /// <summary>One reader and one writer as a Stream; disposing it ends what it writes and wakes what waits on it.</summary>
    private sealed class DuplexStream(PipeReader reader, PipeWriter writer) : Stream
    {
        private readonly Stream _read = reader.AsStream(leaveOpen: true);
        private readonly Stream _write = writer.AsStream(leaveOpen: true);

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => _read.ReadAsync(buffer, cancellationToken);

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default) => _write.WriteAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _read.ReadAsync(buffer, offset, count, cancellationToken);

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => _write.WriteAsync(buffer, offset, count, cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous only");

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException("asynchronous only");

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                reader.CancelPendingRead();
                writer.CancelPendingFlush();
                writer.Complete();
            }

            base.Dispose(disposing);
        }
    }
}
