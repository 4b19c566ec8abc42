using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// <c>gen-tls-key</c> and <c>check-tls-key</c>, with nvme-cli 2.16's options and output: a configured PSK in the
/// <c>NVMeTLSkey-1:hh:&lt;base64&gt;:</c> form, and the PSK identity derived from it. The kernel keyring
/// (<c>--insert</c>, <c>--keyring</c>, <c>--keytype</c>) and libnvme's pre-RFC 8446 derivation (<c>--compat</c>) are not
/// supported; <c>--keyfile</c> (without <c>--insert</c>) appends the derived identity and TLS PSK in the line format of
/// nvme-cli's <c>--insert --keyfile</c>.
/// </summary>
internal static class TlsKeyCommands
{
    public static Command Generate()
    {
        var options = new KeyringOptions();
        var secret = new Option<string?>("--secret", "-s") { Description = "Optional secret (in hexadecimal characters) to be used for the TLS key." };
        var hmac = new Option<uint>("--hmac", "-m") { Description = "HMAC function to use for the retained key (1 = SHA-256, 2 = SHA-384).", DefaultValueFactory = _ => 1 };
        var identity = new Option<uint>("--identity", "-I") { Description = "TLS identity version to use (0 = NVMe TCP 1.0c, 1 = NVMe TCP 2.0)." };
        var command = new Command("gen-tls-key", "Generate a TLS key in NVMe PSK Interchange format (as nvme-cli).");
        command.Options.Add(secret);
        command.Options.Add(hmac);
        command.Options.Add(identity);
        options.AddTo(command);
        CommandRunner.SetAction(command, null, null, async (context, _) =>
        {
            var m = context.GetValue(hmac);
            if (m is < 1 or > 2)
            {
                throw new CliException($"Invalid HMAC identifier {m}");
            }

            var version = context.GetValue(identity);
            if (version > 1)
            {
                throw new CliException($"Invalid TLS identity version {version}");
            }

            options.Refuse(context);
            var hash = (NvmeTlsPskHash)m;
            var length = NvmeTlsKeyDerivation.HashLength(hash);
            var raw = context.GetValue(secret) is { } hex ? ParseHex(context, hex, length) : RandomNumberGenerator.GetBytes(length);
            var key = NvmeTlsKey.Create(raw, hash);
            CryptographicOperations.ZeroMemory(raw);
            await context.Out.WriteAsync(key.ToInterchangeString() + "\n").ConfigureAwait(false);
            await options.AppendAsync(context, key, (int)version).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Check()
    {
        var options = new KeyringOptions();
        var keyData = new Option<string?>("--keydata", "-d") { Description = "TLS key (in PSK Interchange format) to be validated." };
        var identity = new Option<uint>("--identity", "-I") { Description = "TLS identity version to use (0 = NVMe TCP 1.0c, 1 = NVMe TCP 2.0)." };
        var command = new Command("check-tls-key", "Check a TLS key for NVMe PSK Interchange format and print its PSK identity (as nvme-cli).");
        command.Options.Add(keyData);
        command.Options.Add(identity);
        options.AddTo(command);
        CommandRunner.SetAction(command, null, null, async (context, _) =>
        {
            var text = context.GetValue(keyData) ?? throw new CliException("No key data");
            var version = context.GetValue(identity);
            if (version > 1)
            {
                throw new CliException($"Invalid TLS identity version {version}");
            }

            if (!NvmeTlsKey.TryParse(text, out var key, out var error))
            {
                throw new CliException($"Key decoding failed: {error}");
            }

            options.Refuse(context);
            var subsystemNqn = context.GetValue(options.SubsystemNqn) ?? throw new CliException("Need to specify a subsystem NQN");
            var hostNqn = context.GetValue(options.HostNqn) ?? KeyCommands.ReadHostNqn("--hostnqn");
            var psk = key.DeriveTlsPsk(hostNqn, subsystemNqn, (int)version);
            await context.Out.WriteAsync(psk.Identity + "\n").ConfigureAwait(false);
            await options.AppendAsync(context, key, (int)version).ConfigureAwait(false);

            return ExitCodes.Ok;
        });
        return command;
    }

    private static byte[] ParseHex(CliContext context, string hex, int length)
    {
        // nvme-cli reads two hex digits at a time, skips what is beyond the key's length (with a note) and refuses
        // fewer bytes; the secret itself is never echoed.
        if (hex.Length % 2 != 0 || !hex.All(Uri.IsHexDigit))
        {
            throw new CliException("Invalid secret: not hexadecimal characters");
        }

        if (hex.Length / 2 < length)
        {
            throw new CliException(string.Create(CultureInfo.InvariantCulture, $"Invalid key length ({hex.Length / 2} bytes)"));
        }

        if (hex.Length / 2 > length)
        {
            context.Error.WriteLine("Skipping excess secret bytes");
        }

        return Convert.FromHexString(hex.AsSpan(0, length * 2));
    }

    /// <summary>The options both verbs share: the NQNs, the key file, and the keyring options we refuse.</summary>
    private sealed class KeyringOptions
    {
        public Option<string?> HostNqn { get; } = new("--hostnqn", "-n") { Description = $"Host NQN for the retained key (default: /etc/nvme/hostnqn)." };

        public Option<string?> SubsystemNqn { get; } = new("--subsysnqn", "-c") { Description = "Subsystem NQN for the retained key." };

        public Option<string?> KeyFile { get; } = new("--keyfile", "-f") { Description = "Append the PSK identity and the derived TLS PSK to this file (mode 0600), as nvme-cli's --insert --keyfile writes it." };

        private Option<string?> Keyring { get; } = new("--keyring", "-k") { Description = "Keyring for the retained key: not supported (no kernel keyring from here)." };

        private Option<string?> KeyType { get; } = new("--keytype", "-t") { Description = "Key type of the retained key: not supported (no kernel keyring from here)." };

        private Option<bool> Insert { get; } = new("--insert", "-i") { Description = "Insert the retained key into the kernel keyring: not supported; use --keyfile." };

        private Option<bool> Compat { get; } = new("--compat", "-C") { Description = "libnvme's pre-RFC 8446 derivation: not supported." };

        public void AddTo(Command command)
        {
            foreach (var option in new Option[] { HostNqn, SubsystemNqn, KeyFile, Keyring, KeyType, Insert, Compat })
            {
                command.Options.Add(option);
            }
        }

        public void Refuse(CliContext context)
        {
            if (context.GetValue(Insert) || context.GetValue(Keyring) is not null || context.GetValue(KeyType) is not null)
            {
                throw new CliException("The kernel keyring (--insert, --keyring, --keytype) is not supported; use --keyfile to write the derived TLS PSK to a file");
            }

            if (context.GetValue(Compat))
            {
                throw new CliException("--compat (libnvme's derivation before RFC 8446 HkdfLabel lengths) is not supported");
            }
        }

        /// <summary>Appends <c>IDENTITY NVMeTLSkey-V:hh:base64(TLS PSK || CRC-32):</c> as libnvme's append_keyfile does.</summary>
        public async Task AppendAsync(CliContext context, NvmeTlsKey key, int version)
        {
            if (context.GetValue(KeyFile) is not { } path)
            {
                return;
            }

            var subsystemNqn = context.GetValue(SubsystemNqn) ?? throw new CliException("Need to specify a subsystem NQN");
            var hostNqn = context.GetValue(HostNqn) ?? KeyCommands.ReadHostNqn("--hostnqn");
            var psk = key.DeriveTlsPsk(hostNqn, subsystemNqn, version);
            var raw = psk.CopyKey();
            var exported = NvmeTlsKey.Create(raw, psk.Hash).ToInterchangeString();
            CryptographicOperations.ZeroMemory(raw);

            // libnvme prints the identity's version in the header (NVMeTLSkey-0 for a version-0 identity).
            var line = $"{psk.Identity} NVMeTLSkey-{version}{exported["NVMeTLSkey-1".Length..]}\n";
            var fileOptions = new FileStreamOptions { Mode = FileMode.Append, Access = FileAccess.Write };
            if (!OperatingSystem.IsWindows())
            {
                fileOptions.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
            }

            try
            {
                await using var stream = new FileStream(path, fileOptions);
                await stream.WriteAsync(Encoding.UTF8.GetBytes(line)).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                throw new CliException($"Failed to append key to '{path}': {ex.Message}");
            }
        }
    }
}
