using System.Net;
using System.Net.Sockets;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client.Transport;

/// <summary>
/// A queue's byte stream inside TLS 1.3 with an external PSK (NVMe/TCP "Transport Layer Security": the handshake
/// comes first, ICReq and every PDU after it are application data). The session is <see cref="TlsPskChannel"/>'s,
/// shared with the target.
/// </summary>
internal sealed class TlsTransport : ConnectionTransport
{
    private readonly TlsPskChannel _channel;

    private TlsTransport(TlsPskChannel channel, EndPoint remote)
    {
        _channel = channel;
        RemoteEndPoint = remote;
    }

    /// <inheritdoc/>
    public override EndPoint RemoteEndPoint { get; }

    /// <summary>The negotiated cipher suite's name.</summary>
    public string CipherSuite => _channel.CipherSuiteName;

    /// <summary>
    /// Opens a TCP connection to <paramref name="endPoint"/> and runs the TLS handshake with <paramref name="psk"/>, both
    /// bounded by <paramref name="cancellationToken"/> (the caller's connect deadline).
    /// </summary>
    /// <exception cref="SocketException">The TCP connection was refused or could not be made.</exception>
    /// <exception cref="NvmeTlsException">The handshake failed; nothing was sent in the clear but the ClientHello.</exception>
    public static async Task<TlsTransport> ConnectAsync(EndPoint endPoint, NvmeTlsPsk psk, ushort queueId, CancellationToken cancellationToken)
    {
        var socket = await ConnectSocketAsync(endPoint, cancellationToken).ConfigureAwait(false);
        try
        {
            var channel = await TlsPskChannel.ConnectAsync(socket, psk, cancellationToken).ConfigureAwait(false);
            return new TlsTransport(channel, endPoint);
        }
        catch (TlsChannelException e)
        {
            socket.Dispose();
            throw Failed(e, queueId, psk.Identity, endPoint);
        }
        catch (SocketException e)
        {
            // Reset by the controller in the middle of the handshake: Linux nvmet does this when tlshd finds no key.
            socket.Dispose();
            throw new NvmeTlsException(
                $"Queue {queueId}: the controller at {endPoint} reset the connection during the TLS handshake (PSK identity '{psk.Identity}'): {e.Message}. It may not know the identity, or its port may not use TLS.",
                NvmeTlsFailure.IdentityUnknown,
                queueId,
                psk.Identity,
                null,
                e);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    // Maps what the session saw to the reasons a user can act on. A plain NVMe/TCP port answers a ClientHello with a
    // C2HTermReq or by closing: BouncyCastle reads the PDU as a record of an unknown type (unexpected_message) or
    // with a wrong version.
    private static NvmeTlsException Failed(TlsChannelException e, ushort queueId, string identity, EndPoint endPoint)
    {
        var (failure, what) = e.Error switch
        {
            TlsChannelError.Closed => (NvmeTlsFailure.IdentityUnknown, "closed the connection during the TLS handshake; it may not know the PSK identity, or its port may not use TLS"),
            TlsChannelError.AlertReceived when e.Alert is Org.BouncyCastle.Tls.AlertDescription.decrypt_error or Org.BouncyCastle.Tls.AlertDescription.bad_record_mac
                => (NvmeTlsFailure.KeyRejected, $"refused the PSK (alert {e.AlertName}): the key differs from the controller's"),
            TlsChannelError.AlertReceived when e.Alert is Org.BouncyCastle.Tls.AlertDescription.unknown_psk_identity or Org.BouncyCastle.Tls.AlertDescription.handshake_failure
                => (NvmeTlsFailure.IdentityUnknown, $"selected no PSK for the identity (alert {e.AlertName})"),
            TlsChannelError.AlertReceived => (NvmeTlsFailure.HandshakeFailed, $"ended the TLS handshake with the alert {e.AlertName}"),
            _ when e.Alert is Org.BouncyCastle.Tls.AlertDescription.bad_record_mac or Org.BouncyCastle.Tls.AlertDescription.decrypt_error
                => (NvmeTlsFailure.KeyRejected, $"sent records this host could not decrypt (alert {e.AlertName}): the keys differ"),
            _ when e.Alert is Org.BouncyCastle.Tls.AlertDescription.unexpected_message or Org.BouncyCastle.Tls.AlertDescription.decode_error or Org.BouncyCastle.Tls.AlertDescription.protocol_version or Org.BouncyCastle.Tls.AlertDescription.record_overflow
                => (NvmeTlsFailure.NotOffered, $"did not answer in TLS (alert {e.AlertName}): its port may not be configured for TLS"),
            _ => (NvmeTlsFailure.HandshakeFailed, $"failed the TLS handshake (alert {e.AlertName})"),
        };

        return new NvmeTlsException($"Queue {queueId}: the controller at {endPoint} {what}; PSK identity '{identity}'.", failure, queueId, identity, e.Alert < 0 ? null : e.AlertName, e);
    }

    /// <inheritdoc/>
    public override ValueTask<int> ReceiveAsync(Memory<byte> buffer, CancellationToken cancellationToken) =>
        _channel.ReceiveAsync(buffer, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken) =>
        _channel.SendAsync(data, cancellationToken);

    /// <inheritdoc/>
    public override ValueTask SendAsync(ReadOnlyMemory<byte> first, ReadOnlyMemory<byte> second, ReadOnlyMemory<byte> third, CancellationToken cancellationToken) =>
        _channel.SendAsync(first, second, third, cancellationToken);

    /// <inheritdoc/>
    public override void Abort() => ShutdownAndClose(_channel.Socket);

    /// <inheritdoc/>
    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _channel.Dispose();
        }
    }
}
