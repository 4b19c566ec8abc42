using System.Security.Cryptography;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Auth;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Target.Internal.Execution;

/// <summary>
/// The controller's half of DH-HMAC-CHAP on one queue (NVMe Base 2.0 section 8.3), following nvmet's
/// <c>fabrics-cmd-auth.c</c>: Authentication Send carries the host's messages (AUTH_Negotiate, Reply, Success2,
/// AUTH_Failure2), Authentication Receive returns the controller's (Challenge, Success1, AUTH_Failure1); a failed step
/// answers the next Receive with AUTH_Failure1. Until the queue has authenticated, commands other than Connect,
/// Property Get/Set and these two fail with Authentication Required.
/// </summary>
internal sealed partial class CommandExecutor
{
    // The largest AL served: a challenge needs at most 16 + 64 + 1024 bytes, Linux asks for 4096.
    private const uint MaxAuthReceive = 64 * 1024;

    private QueueAuthentication? _auth;

    /// <summary>AUTHREQ ATR (Connect response DW0 bit 17).</summary>
    private const uint AuthenticationRequiredBit = 1u << 17;

    /// <summary>True when this queue still owes authentication: everything but the exempt commands is refused.</summary>
    private bool AwaitingAuthentication => _auth is { Authenticated: false };

    private void BeginAuthentication(TargetSubsystem subsystem, string hostNqn, ref uint dw0)
    {
        // A queue in TLS with a PSK concatenation generated for this host has authenticated already: nvmet_setup_auth
        // asks nothing of a TLS queue ("host ... tls enabled"), and Linux's host expects no exchange there.
        if (_queue.TlsIdentity is { } identity && _target.GeneratedPsks.TryFind(identity, out _, out _, out _))
        {
            return;
        }

        if (subsystem.Authentication.TryGetValue(hostNqn, out var settings))
        {
            _auth = new QueueAuthentication(settings, subsystem.Nqn, hostNqn, _target, _queue);
            dw0 |= AuthenticationRequiredBit;
        }
    }

    private NvmeStatus CheckAuthenticationCommand(in Sqe sqe, uint length)
    {
        if (sqe[AuthenticationCommands.SecpOffset] != AuthenticationCommands.DhHmacChapProtocol
            || sqe[AuthenticationCommands.Spsp0Offset] != AuthenticationCommands.DhHmacChapSpecific
            || sqe[AuthenticationCommands.Spsp1Offset] != AuthenticationCommands.DhHmacChapSpecific
            || length == 0 || sqe.ReadUInt32(AuthenticationCommands.LengthOffset) != length)
        {
            return Status.Of(StatusCodes.InvalidField);
        }

        // A host that was never asked to authenticate has nothing to authenticate against (nvmet: no host key), except
        // on an admin queue in TLS with a generated PSK, which was not asked at Connect but may re-authenticate to
        // replace its PSK (REPLACETLSPSK).
        if (_auth is null && _queue.QueueId == 0 && Controller is { } controller && _queue.TlsIdentity is { } identity
            && _target.GeneratedPsks.TryFind(identity, out _, out _, out _)
            && controller.Subsystem.Authentication.TryGetValue(controller.HostNqn, out var settings))
        {
            _auth = new QueueAuthentication(settings, controller.Subsystem.Nqn, controller.HostNqn, _target, _queue, authenticated: true);
        }

        return _auth is null ? Status.Of(StatusCodes.InvalidField) : NvmeStatus.Success;
    }

    private void AuthenticationSend(TargetRequest command, ReadOnlySpan<byte> data)
    {
        var status = CheckAuthenticationCommand(command.Sqe, (uint)data.Length);
        if (status.IsSuccess)
        {
            _auth!.Receive(data, _target.Testing.AuthenticationFault);
            if (_auth.Authenticated && _auth.JustAuthenticated())
            {
                _target.Testing.CountAuthenticated();
            }
        }

        Complete(command, status);
    }

    private void AuthenticationReceive(TargetRequest command)
    {
        var length = command.Sqe.ReadUInt32(AuthenticationCommands.LengthOffset);
        var status = CheckAuthenticationCommand(command.Sqe, command.Sqe.SglLength);
        var fault = _target.Testing.AuthenticationFault;
        if (status.IsSuccess && (length > MaxAuthReceive || fault == NvmeAuthenticationFault.RefuseReceive))
        {
            status = Status.Of(StatusCodes.InvalidField);
        }

        if (!status.IsSuccess)
        {
            Complete(command, status);
            return;
        }

        if (fault == NvmeAuthenticationFault.CloseAfterReply && _auth!.AfterReply)
        {
            _queue.Abort();
            return;
        }

        var message = new byte[length];
        if (!_auth!.Send(message, fault))
        {
            Complete(command, Status.Of(StatusCodes.InvalidField));
            return;
        }

        if (_auth.Authenticated && _auth.JustAuthenticated())
        {
            _target.Testing.CountAuthenticated();
        }

        SendData(command, message);
    }

    /// <summary>One queue's exchange: the step it is at and what the steps so far have fixed.</summary>
    private sealed class QueueAuthentication
    {
        private readonly NvmeHostAuthentication _settings;
        private readonly NvmeTargetTestHooks _testing;
        private readonly GeneratedPskRegistry _generatedPsks;
        private readonly ITargetQueue _queue;
        private readonly string _subsystemNqn;
        private readonly string _hostNqn;
        private Step _step = Step.Negotiate;
        private AuthFailureReason _failure;
        private ushort _tid;
        private DhchapHashFunction _hash;
        private DhchapDhGroup _group;
        private uint _s1;
        private byte[] _c1 = [];
        private DhchapDhKey? _dh;
        private byte[] _sessionKey = [];
        private byte[]? _c2;
        private uint _s2;
        private bool _counted;
        private bool _repliedTo;
        private AuthSecureChannel _secureChannel;
        private readonly bool _keepAuthenticated;
        private NvmeTlsPsk? _generated;

        public QueueAuthentication(NvmeHostAuthentication settings, string subsystemNqn, string hostNqn, NvmeTcpTarget target, ITargetQueue queue, bool authenticated = false)
        {
            // A queue that authenticated otherwise (the generated PSK) keeps running while it re-authenticates.
            _keepAuthenticated = authenticated;
            Authenticated = authenticated;
            _counted = authenticated;
            _testing = target.Testing;
            _generatedPsks = target.GeneratedPsks;
            _queue = queue;
            _settings = settings;
            _subsystemNqn = subsystemNqn;
            _hostNqn = hostNqn;
        }

        private enum Step
        {
            Negotiate,
            Challenge,
            Reply,
            Success1,
            Success2,
            Failure1,
            Done,
        }

        public bool Authenticated { get; private set; }

        /// <summary>True when the host's reply has been judged and the controller's answer (Success1 or AUTH_Failure1) is due.</summary>
        public bool AfterReply => _step is Step.Success1 or Step.Failure1 && _repliedTo;

        // True once, the first time it is asked after the queue authenticated: for the counter of authenticated queues.
        public bool JustAuthenticated()
        {
            if (_counted)
            {
                return false;
            }

            _counted = true;
            return true;
        }

        /// <summary>A host message (Authentication Send).</summary>
        public void Receive(ReadOnlySpan<byte> data, NvmeAuthenticationFault fault)
        {
            if (!AuthMessage.TryReadHeader(data, out var type, out var id, out var tid))
            {
                Fail(AuthFailureReason.IncorrectPayload);
                return;
            }

            // AUTH_Negotiate starts (or restarts) an exchange at any step, as nvmet allows re-authentication.
            if (type == AuthMessageType.Common && id == AuthMessageId.Negotiate)
            {
                Negotiate(data);
                return;
            }

            if (type == AuthMessageType.Common && id == AuthMessageId.Failure2)
            {
                Authenticated = _keepAuthenticated;
                _step = Step.Negotiate;
                return;
            }

            if (type != AuthMessageType.DhHmacChap || tid != _tid)
            {
                Fail(AuthFailureReason.IncorrectMessage);
                return;
            }

            if (id == AuthMessageId.Reply && _step == Step.Reply)
            {
                Reply(data, fault);
            }
            else if (id == AuthMessageId.Success2 && _step == Step.Success2)
            {
                Authenticated = true;
                _step = Step.Done;
                RegisterGeneratedPsk();
            }
            else
            {
                Fail(AuthFailureReason.IncorrectMessage);
            }
        }

        /// <summary>The controller's next message (Authentication Receive); false when no message is due.</summary>
        public bool Send(Span<byte> destination, NvmeAuthenticationFault fault)
        {
            switch (_step)
            {
                case Step.Challenge:
                    return Challenge(destination, fault);
                case Step.Success1:
                    return Success1(destination, fault);
                case Step.Failure1:
                    if (destination.Length < AuthFailureMessage.Size)
                    {
                        return false;
                    }

                    AuthFailureMessage.Write(destination, fromController: true, _tid, _failure);
                    _step = Step.Negotiate;
                    return true;
                default:
                    // Nothing is due (nvmet's "unhandled step"): AUTH_Failure1, Authentication Failed.
                    _failure = AuthFailureReason.Failed;
                    _step = Step.Failure1;
                    return Send(destination, fault);
            }
        }

        private void Fail(AuthFailureReason reason)
        {
            _testing.CountAuthenticationFailure();
            Authenticated = _keepAuthenticated;
            _failure = reason;
            _step = Step.Failure1;
        }

        private void Negotiate(ReadOnlySpan<byte> data)
        {
            Authenticated = _keepAuthenticated;
            if (!AuthNegotiateMessage.TryRead(data, out var negotiate, out var reason))
            {
                Fail(reason);
                return;
            }

            _tid = negotiate.TransactionId;
            _secureChannel = negotiate.SecureChannel;
            _generated = null;
            if (_secureChannel != AuthSecureChannel.None && !ConcatenationAllowed(_secureChannel))
            {
                Fail(AuthFailureReason.ConcatenationMismatch);
                return;
            }

            // Concatenation derives a TLS PSK with the exchange's hash: only SHA-256 and SHA-384 have a TLS 1.3 suite.
            var concatenating = _secureChannel != AuthSecureChannel.None;
            var hash = _settings.Hashes.FirstOrDefault(h => negotiate.Hashes.Contains(h) && (!concatenating || NvmeTlsKeyDerivation.TryGetConcatenationHash(h, out _)));
            if (!DhchapIdentifiers.IsKnown(hash))
            {
                Fail(AuthFailureReason.HashUnusable);
                return;
            }

            var groups = _settings.Groups.Where(g => negotiate.Groups.Contains(g)).ToArray();
            if (groups.Length == 0)
            {
                Fail(AuthFailureReason.DhGroupUnusable);
                return;
            }

            // nvmet_auth_negotiate: "NULL DH group invalid for secure channel concatenation".
            if (concatenating && groups[0] == DhchapDhGroup.Null)
            {
                Fail(AuthFailureReason.ConcatenationMismatch);
                return;
            }

            _hash = hash;
            _group = groups[0];
            _step = Step.Challenge;
        }

        // nvmet's rules (fabrics-cmd-auth.c nvmet_auth_negotiate): the admin queue only; NEWTLSPSK on a queue in the
        // clear, REPLACETLSPSK on one in TLS, no other value. Beyond nvmet, the host must be allowed it, and the port
        // must serve TLS (nvmet would generate a key no handshake on that port can use).
        private bool ConcatenationAllowed(AuthSecureChannel secureChannel) =>
            _settings.Concatenation && _queue.QueueId == 0 && _queue.Port.Tls != NvmeTargetTls.None && secureChannel switch
            {
                AuthSecureChannel.NewTlsPsk => _queue.TlsIdentity is null,
                AuthSecureChannel.ReplaceTlsPsk => _queue.TlsIdentity is not null,
                _ => false,
            };

        // The host is authenticated: the generated PSK becomes the one the TLS handshake finds (nvmet_auth_insert_psk).
        private void RegisterGeneratedPsk()
        {
            if (_generated is not null)
            {
                _generatedPsks.Register(_hostNqn, _subsystemNqn, _generated);
                _generated = null;
            }
        }

        private bool Challenge(Span<byte> destination, NvmeAuthenticationFault fault)
        {
            var hl = DhchapIdentifiers.HashLength(_hash);
            _c1 = RandomNumberGenerator.GetBytes(hl);
            _s1 = (uint)RandomNumberGenerator.GetInt32(1, int.MaxValue);
            _dh = _group == DhchapDhGroup.Null ? null : DhchapDhKey.Generate(_group);
            var hash = fault == NvmeAuthenticationFault.UnknownHash ? (DhchapHashFunction)0xFE : _hash;
            var group = fault == NvmeAuthenticationFault.UnknownGroup ? (DhchapDhGroup)0xFE : _group;
            var tid = fault == NvmeAuthenticationFault.WrongTransactionId ? (ushort)(_tid + 1) : _tid;
            var message = new DhchapChallengeMessage(tid, hash, group, _s1, _c1, _dh?.PublicValue ?? []);
            if (destination.Length < message.Size)
            {
                return false;
            }

            message.Write(destination);
            _step = Step.Reply;
            return true;
        }

        private void Reply(ReadOnlySpan<byte> data, NvmeAuthenticationFault fault)
        {
            _repliedTo = true;
            var hl = DhchapIdentifiers.HashLength(_hash);
            if (!DhchapReplyMessage.TryRead(data, hl, DhchapIdentifiers.DhValueLength(_group), out var reply, out var reason))
            {
                Fail(reason);
                return;
            }

            var challenge = _c1;
            if (_dh is not null)
            {
                if (!_dh.TryComputeSharedSecret(reply.DhValue, out _sessionKey))
                {
                    Fail(AuthFailureReason.DhGroupUnusable);
                    return;
                }

                challenge = DhchapCrypto.AugmentChallenge(_hash, _sessionKey, _c1);
            }

            var key = _settings.Secret.Transform(_hostNqn);
            var expected = DhchapCrypto.HostResponse(_hash, key, challenge, _s1, _tid, _hostNqn, _subsystemNqn, _secureChannel);
            CryptographicOperations.ZeroMemory(key);
            if (fault == NvmeAuthenticationFault.RejectHost || !CryptographicOperations.FixedTimeEquals(expected, reply.Response))
            {
                Fail(AuthFailureReason.Failed);
                return;
            }

            // Bidirectional when the host sent C2 with a non-zero S2; without a controller secret that cannot be met.
            _c2 = reply.Challenge is not null && reply.SequenceNumber != 0 ? reply.Challenge : null;
            _s2 = reply.SequenceNumber;
            if (_c2 is not null && _settings.ControllerSecret is null)
            {
                Fail(AuthFailureReason.Failed);
                return;
            }

            if (_secureChannel != AuthSecureChannel.None)
            {
                // The generated PSK is HMAC(session key, C1 || C2): a host asking for it must send C2 (nvmet: "invalid challenge").
                if (reply.Challenge is null)
                {
                    Fail(AuthFailureReason.Failed);
                    return;
                }

                _generated = NvmeTlsKeyDerivation.GeneratedTlsPsk(_hash, _sessionKey, _c1, reply.Challenge, _hostNqn, _subsystemNqn);
            }

            // The host is authenticated now (as nvmet decides at the reply); Success2 follows only when it checks the controller.
            var done = _c2 is null;
            Authenticated = done || _keepAuthenticated;
            if (done)
            {
                RegisterGeneratedPsk();
            }

            _step = Step.Success1;
        }

        private bool Success1(Span<byte> destination, NvmeAuthenticationFault fault)
        {
            var hl = DhchapIdentifiers.HashLength(_hash);
            byte[]? r2 = null;
            if (_c2 is not null && fault != NvmeAuthenticationFault.OmitControllerResponse)
            {
                var challenge = _sessionKey.Length > 0 ? DhchapCrypto.AugmentChallenge(_hash, _sessionKey, _c2) : _c2;
                var key = _settings.ControllerSecret!.Transform(_subsystemNqn);
                r2 = DhchapCrypto.ControllerResponse(_hash, key, challenge, _s2, _tid, _hostNqn, _subsystemNqn);
                CryptographicOperations.ZeroMemory(key);
                if (fault == NvmeAuthenticationFault.WrongControllerResponse)
                {
                    r2[0] ^= 0xFF;
                }
            }

            var message = new DhchapSuccess1Message(_tid, hl, r2);
            if (destination.Length < message.Size)
            {
                return false;
            }

            message.Write(destination);
            _step = _c2 is null ? Step.Done : Step.Success2;
            CryptographicOperations.ZeroMemory(_sessionKey);
            return true;
        }
    }
}
