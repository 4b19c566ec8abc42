using System.Net;
using NvmeTcp.Client.Transport;

namespace NvmeTcp.Client.Tests.Transport;

/// <summary>A transport that passes everything to another; a test overrides the part it changes.</summary>
internal abstract class DelegatingTransport(ConnectionTransport inner) : ConnectionTransport
{
    public override EndPoint RemoteEndPoint => inner.RemoteEndPoint;

    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) => inner.ReceiveAsync(buffer, cancellationToken);

    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) => inner.SendAsync(data, cancellationToken);

    public override void Abort() => inner.Abort();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            inner.Dispose();
        }
    }
}
