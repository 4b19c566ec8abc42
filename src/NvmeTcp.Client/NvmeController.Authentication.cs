using System.Security.Cryptography;
using Microsoft.Extensions.Logging;
using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Client;

/// <summary>
/// The host's half of DH-HMAC-CHAP (NVMe Base 2.0 section 8.3 "Authentication"), run on a queue right after its Connect
/// when the response asks for it, as Linux's <c>nvme_queue_auth_work</c> does: AUTH_Negotiate, then the controller's
/// Challenge, the host's Reply, the controller's Success1 and, when the host authenticates the controller too, Success2.
/// A failure after the challenge is reported to the controller with AUTH_Failure2.
/// </summary>
/// <remarks>
/// With secure channel concatenation (<see cref="NvmeTcpOptions.Concatenation"/>) the admin queue's exchange asks for a
/// TLS PSK (SC_C, which also enters R1), always sends C2 and, as Linux's <c>nvme_auth_secure_concat</c>, derives the
/// generated PSK from the session key, C1 and C2 once the controller has accepted the host.
/// </remarks>
public sealed partial class NvmeController
{
    // One buffer size for every message received, as Linux (CHAP_BUF_SIZE): a challenge with an ffdhe8192 value and a
    // SHA-512 C1 takes 16 + 64 + 1024 bytes.
    private const int AuthReceiveSize = 4096;

    private static readonly DhchapHashFunction[] OfferedHashes = [DhchapHashFunction.Sha256, DhchapHashFunction.Sha384, DhchapHashFunction.Sha512];

    // Concatenation derives a TLS PSK with the exchange's hash, and TLS 1.3 has no SHA-512 suite (Linux's host offers it
    // and then fails after authenticating; offering only what can work lets the controller pick a usable one).
    private static readonly DhchapHashFunction[] ConcatenationHashes = [DhchapHashFunction.Sha256, DhchapHashFunction.Sha384];

    private static readonly DhchapDhGroup[] OfferedGroups =
        [DhchapDhGroup.Null, DhchapDhGroup.Ffdhe2048, DhchapDhGroup.Ffdhe3072, DhchapDhGroup.Ffdhe4096, DhchapDhGroup.Ffdhe6144, DhchapDhGroup.Ffdhe8192];

    /// <summary>
    /// The PSK identity (<c>NVMe1Ghh NQNh NQNc digest</c>) of the TLS PSK secure channel concatenation generated for
    /// the current association, or null without <see cref="NvmeTcpOptions.Concatenation"/> (Linux shows the key's
    /// serial in sysfs <c>tls_key</c>). Each reconnect generates a new one. The identity is sent in the clear in every
    /// ClientHello; the key is never exposed.
    /// </summary>
    public string? GeneratedTlsPskIdentity => Current.GeneratedTlsPsk?.Identity;

    /// <summary>
    /// Runs DH-HMAC-CHAP again on the live admin queue, as Linux's host does when its <c>dhchap_secret</c> is written
    /// (<c>nvme_auth_negotiate(ctrl, 0)</c>). With <see cref="NvmeTcpOptions.Concatenation"/> the exchange asks for a
    /// replacement TLS PSK (SC_C REPLACETLSPSK) and both sides switch to the new one: connections opened from now on
    /// use it (<see cref="GeneratedTlsPskIdentity"/> changes); a reconnect still starts in the clear and generates its own.
    /// </summary>
    /// <param name="cancellationToken">Cancels the exchange.</param>
    /// <exception cref="InvalidOperationException">No <see cref="NvmeTcpOptions.DhchapSecret"/>.</exception>
    /// <exception cref="NvmeAuthenticationException">The exchange failed; the association stays as it was.</exception>
    public async Task ReauthenticateAsync(CancellationToken cancellationToken = default)
    {
        if (_options.DhchapSecret is null)
        {
            throw new InvalidOperationException("Re-authentication needs NvmeTcpOptions.DhchapSecret.");
        }

        if (State != NvmeControllerState.Live)
        {
            await WaitUntilLiveAsync(cancellationToken).ConfigureAwait(false);
        }

        var association = Current;
        var secureChannel = association.GeneratedTlsPsk is null ? AuthSecureChannel.None : AuthSecureChannel.ReplaceTlsPsk;
        var replaced = await AuthenticateQueueAsync(association.Admin, _options, _logger, 0, secureChannel, cancellationToken).ConfigureAwait(false);
        if (replaced is not null)
        {
            association.GeneratedTlsPsk = replaced;
            if (_logger.IsEnabled(LogLevel.Debug))
            {
                Log.TlsPskGenerated(_logger, replaced.Identity);
            }
        }
    }

    private static int s_transaction;
    private static int s_sequence = RandomNumberGenerator.GetInt32(1, int.MaxValue);

    // A new S2 for each bidirectional exchange, never 0 (0 means "no controller authentication").
    private static uint NextSequenceNumber()
    {
        uint next;
        do
        {
            next = (uint)Interlocked.Increment(ref s_sequence);
        }
        while (next == 0);
        return next;
    }

    // Returns the generated TLS PSK when secureChannel asks for one, else null.
    private static async Task<NvmeTlsPsk?> AuthenticateQueueAsync(QueueConnection queue, NvmeTcpOptions options, ILogger logger, ushort requirements, AuthSecureChannel secureChannel, CancellationToken cancellationToken)
    {
        var concatenating = secureChannel != AuthSecureChannel.None;
        var qid = queue.QueueId;
        var hostSecret = options.DhchapSecret!;
        var controllerSecret = options.DhchapControllerSecret;
        var tid = (ushort)Interlocked.Increment(ref s_transaction);
        var buffer = new byte[AuthReceiveSize];

        NvmeAuthenticationException Fail(NvmeAuthenticationFailure failure, AuthFailureReason reason, string what, Exception? inner = null)
        {
            var message = $"DH-HMAC-CHAP on queue {qid} with {queue.RemoteEndPoint} failed: {what}.";
            Log.AuthenticationFailed(logger, qid, what);
            return new NvmeAuthenticationException(message, failure, requirements, qid, reason, inner);
        }

        async Task SendAsync(int length)
        {
            try
            {
                await queue.SubmitAsync(AuthenticationCommands.Send((uint)length), CommandKind.Fabrics, buffer.AsMemory(0, length), default, cancellationToken).ConfigureAwait(false);
            }
            catch (NvmeStatusException e)
            {
                throw Fail(NvmeAuthenticationFailure.Failed, AuthFailureReason.None, $"Authentication Send answered {e.Status}", e);
            }
        }

        async Task<int> ReceiveAsync()
        {
            buffer.AsSpan().Clear();
            try
            {
                await queue.SubmitAsync(AuthenticationCommands.Receive(AuthReceiveSize), CommandKind.Fabrics, default, buffer, cancellationToken).ConfigureAwait(false);
            }
            catch (NvmeStatusException e)
            {
                throw Fail(NvmeAuthenticationFailure.Failed, AuthFailureReason.None, $"Authentication Receive answered {e.Status}", e);
            }

            // AUTH_Failure1 may come instead of any controller message.
            if (AuthFailureMessage.TryRead(buffer, out var id, out _, out var rce) && id == AuthMessageId.Failure1)
            {
                // A controller refusing concatenation (not allowed, NULL group, not the admin queue) did not judge the secret.
                var failure = rce == AuthFailureReason.ConcatenationMismatch ? NvmeAuthenticationFailure.Unsupported : NvmeAuthenticationFailure.HostRejected;
                throw Fail(failure, rce, $"the controller rejected the host (AUTH_Failure1: {DhchapIdentifiers.Describe(rce)})");
            }

            return AuthReceiveSize;
        }

        // AUTH_Failure2 tells the controller why the host stops; the exchange failed either way, so its outcome is moot.
        async Task<NvmeAuthenticationException> AbortAsync(NvmeAuthenticationFailure failure, AuthFailureReason reason, string what)
        {
            var error = Fail(failure, reason, what);
            try
            {
                var length = AuthFailureMessage.Write(buffer, fromController: false, tid, reason);
                await queue.SubmitAsync(AuthenticationCommands.Send((uint)length), CommandKind.Fabrics, buffer.AsMemory(0, length), default, cancellationToken).ConfigureAwait(false);
            }
            catch (NvmeException)
            {
            }

            return error;
        }

        // 1. AUTH_Negotiate: every hash and group this host knows (for concatenation the hashes TLS can use), and SC_C.
        await SendAsync(new AuthNegotiateMessage(tid, concatenating ? ConcatenationHashes : OfferedHashes, OfferedGroups, secureChannel).Write(buffer)).ConfigureAwait(false);

        // 2. The challenge, checked field by field before anything is sized from it.
        await ReceiveAsync().ConfigureAwait(false);
        if (!AuthMessage.TryReadHeader(buffer, out _, out _, out var challengeTid) || challengeTid != tid)
        {
            throw await AbortAsync(NvmeAuthenticationFailure.Failed, AuthFailureReason.IncorrectMessage, $"the challenge carries T_ID {challengeTid}, not {tid}").ConfigureAwait(false);
        }

        if (!DhchapChallengeMessage.TryRead(buffer, out var challenge, out var reason))
        {
            var failure = reason is AuthFailureReason.HashUnusable or AuthFailureReason.DhGroupUnusable ? NvmeAuthenticationFailure.Unsupported : NvmeAuthenticationFailure.Failed;
            var what = reason switch
            {
                AuthFailureReason.HashUnusable => $"the controller chose hash 0x{buffer[8]:X2} with HL {buffer[6]}, which this host does not offer (it offers SHA-256, SHA-384, SHA-512)",
                AuthFailureReason.DhGroupUnusable => $"the controller chose DH group 0x{buffer[9]:X2}, which this host does not offer (it offers NULL and ffdhe2048 to ffdhe8192)",
                _ => $"the challenge is malformed ({DhchapIdentifiers.Describe(reason)})",
            };
            throw await AbortAsync(failure, reason, what).ConfigureAwait(false);
        }

        var hash = challenge.Hash;
        var hl = challenge.Challenge.Length;
        if (concatenating && (challenge.Group == DhchapDhGroup.Null || !NvmeTlsKeyDerivation.TryGetConcatenationHash(hash, out _)))
        {
            // Without a DH session key there is nothing secret to generate the PSK from (Linux: "no session key negotiated").
            var what = challenge.Group == DhchapDhGroup.Null
                ? "the controller chose the NULL DH group, and secure channel concatenation needs a DH group to generate the TLS PSK from"
                : $"the controller chose hash 0x{(byte)hash:X2}, which has no TLS 1.3 cipher suite for secure channel concatenation";
            throw await AbortAsync(NvmeAuthenticationFailure.Unsupported, AuthFailureReason.ConcatenationMismatch, what).ConfigureAwait(false);
        }

        byte[] sessionKey = [];
        byte[] hostDhValue = [];
        if (challenge.Group != DhchapDhGroup.Null)
        {
            var dh = DhchapDhKey.Generate(challenge.Group);
            if (!dh.TryComputeSharedSecret(challenge.DhValue, out sessionKey))
            {
                throw await AbortAsync(NvmeAuthenticationFailure.Failed, AuthFailureReason.IncorrectPayload, "the controller's DH value is not a valid member of the group").ConfigureAwait(false);
            }

            hostDhValue = dh.PublicValue;
        }

        // 3. The reply: R1, and C2 with S2 when the host authenticates the controller too.
        var hostKey = hostSecret.Transform(options.HostNqn);
        var c1 = sessionKey.Length > 0 ? DhchapCrypto.AugmentChallenge(hash, sessionKey, challenge.Challenge) : challenge.Challenge;
        var r1 = DhchapCrypto.HostResponse(hash, hostKey, c1, challenge.SequenceNumber, tid, options.HostNqn, options.SubsystemNqn, secureChannel);
        CryptographicOperations.ZeroMemory(hostKey);

        // C2 goes with S2 when the host authenticates the controller; concatenation needs C2 for the PSK in any case,
        // with S2 0 when the controller is not authenticated (as Linux sends it).
        byte[]? c2 = null;
        uint s2 = 0;
        if (controllerSecret is not null || concatenating)
        {
            c2 = RandomNumberGenerator.GetBytes(hl);
            s2 = controllerSecret is not null ? NextSequenceNumber() : 0;
        }

        await SendAsync(new DhchapReplyMessage(tid, r1, c2, s2, hostDhValue).Write(buffer)).ConfigureAwait(false);

        // 4. Success1, with R2 when asked for. Linux nvmet, failing a host, may close the connection before its
        // AUTH_Failure1 goes out (nvmet_ctrl_fatal_error runs before the Receive completes; seen on 6.12 and 7.3): a
        // connection lost now, after the controller judged the reply, is its refusal, and retrying would meet it again.
        try
        {
            await ReceiveAsync().ConfigureAwait(false);
        }
        catch (NvmeTransportException e)
        {
            throw Fail(NvmeAuthenticationFailure.HostRejected, AuthFailureReason.None, "the controller closed the connection after the host's reply, before Success1 (how Linux nvmet may reject a host)", e);
        }

        if (!AuthMessage.TryReadHeader(buffer, out _, out _, out var successTid) || successTid != tid)
        {
            throw await AbortAsync(NvmeAuthenticationFailure.Failed, AuthFailureReason.IncorrectMessage, $"Success1 carries T_ID {successTid}, not {tid}").ConfigureAwait(false);
        }

        if (!DhchapSuccess1Message.TryRead(buffer, hl, out var success1, out reason))
        {
            throw await AbortAsync(NvmeAuthenticationFailure.Failed, reason, $"Success1 is malformed ({DhchapIdentifiers.Describe(reason)})").ConfigureAwait(false);
        }

        if (controllerSecret is not null)
        {
            if (success1.Response is null)
            {
                throw await AbortAsync(NvmeAuthenticationFailure.ControllerRejected, AuthFailureReason.Failed, "the controller gave no response to the host's challenge (bidirectional authentication was asked for)").ConfigureAwait(false);
            }

            var controllerKey = controllerSecret.Transform(options.SubsystemNqn);
            var augmented = sessionKey.Length > 0 ? DhchapCrypto.AugmentChallenge(hash, sessionKey, c2!) : c2!;
            var expected = DhchapCrypto.ControllerResponse(hash, controllerKey, augmented, s2, tid, options.HostNqn, options.SubsystemNqn);
            CryptographicOperations.ZeroMemory(controllerKey);
            if (!CryptographicOperations.FixedTimeEquals(expected, success1.Response))
            {
                throw await AbortAsync(NvmeAuthenticationFailure.ControllerRejected, AuthFailureReason.Failed, "the controller's response does not match the controller secret").ConfigureAwait(false);
            }

            // 5. Success2: the host accepts the controller.
            await SendAsync(DhchapSuccess2Message.Write(buffer, tid)).ConfigureAwait(false);
        }

        NvmeTlsPsk? generated = null;
        if (concatenating)
        {
            // nvme_auth_secure_concat: HMAC(session key, C1 || C2), its digest, the TLS PSK and the NVMe1G identity.
            generated = NvmeTlsKeyDerivation.GeneratedTlsPsk(hash, sessionKey, challenge.Challenge, c2!, options.HostNqn, options.SubsystemNqn);
        }

        CryptographicOperations.ZeroMemory(sessionKey);
        if (logger.IsEnabled(LogLevel.Debug))
        {
            Log.QueueAuthenticated(logger, qid, hash, challenge.Group, controllerSecret is not null);
        }

        return generated;
    }
}
