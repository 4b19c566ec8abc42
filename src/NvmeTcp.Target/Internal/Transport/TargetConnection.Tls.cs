using System.Net.Sockets;

namespace NvmeTcp.Target.Internal.Transport;

/// <summary>
/// TLS on a TLS port (NVMe/TCP "Transport Layer Security"): before anything else, the first byte says whether the host
/// starts a TLS handshake or sends a plain ICReq, as nvmet's <c>nvmet_tcp_try_peek_pdu</c> peeks it. The handshake
/// runs under the ICReq deadline (<see cref="NvmeTargetOptions.IcReqTimeout"/> aborts the socket), and the PSK is
/// looked up by the identity the host offers in <see cref="NvmeTcpTarget.TlsKeys"/>.
/// </summary>
internal sealed partial class TargetConnection
{
    private async Task<bool> StartTlsAsync()
    {
        var first = new byte[1];
        try
        {
            // Peek: a plain ICReq stays in the socket for the receive loop.
            if (await _socket.ReceiveAsync(first, SocketFlags.Peek, _abort.Token).ConfigureAwait(false) == 0)
            {
                return false;
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException)
        {
            return false;
        }

        if (first[0] != TlsPskChannel.HandshakeContentType)
        {
            if (Port.Tls == NvmeTargetTls.Optional)
            {
                return true;
            }

            // nvmet closes such a connection without a word; nothing of the PDU is read.
            _target.Testing.CountPlainRefused();
            _target.Log.TlsRequired(RemoteEndPoint, Port.PortId, first[0]);
            return false;
        }

        TlsPskChannel? channel = null;
        try
        {
            channel = await TlsPskChannel.AcceptAsync(_socket, _target.TlsKeys.Find, _abort.Token).ConfigureAwait(false);
            _target.Log.TlsEstablished(RemoteEndPoint, channel.Identity, channel.CipherSuiteName);
            _tls = channel;
            return true;
        }
        catch (TlsChannelException e)
        {
            _target.Testing.CountTlsFailure();
            _target.Log.TlsFailed(RemoteEndPoint, e.Message, string.Join(", ", e.OfferedIdentities));
            return false;
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or ObjectDisposedException or IOException)
        {
            _target.Testing.CountTlsFailure();
            return false;
        }
    }

    // The socket, or the TLS session over it.
    private ValueTask<int> ReceiveRawAsync(Memory<byte> buffer) =>
        _tls is { } tls ? tls.ReceiveAsync(buffer, _abort.Token)
        : _blocking ? ValueTask.FromResult(ReceiveBlocking(buffer.Span))
        : _socket.ReceiveAsync(buffer, SocketFlags.None, _abort.Token);
}
