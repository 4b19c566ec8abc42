using System.CommandLine;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// <c>gen-dhchap-key</c> and <c>check-dhchap-key</c>, with nvme-cli's options and output: a DH-HMAC-CHAP secret in the
/// <c>DHHC-1:hh:&lt;base64&gt;:</c> form, and its check.
/// </summary>
internal static class KeyCommands
{
    private const string HostNqnFile = "/etc/nvme/hostnqn";

    public static Command Generate()
    {
        var secret = new Option<string?>("--secret", "-s") { Description = "Optional secret (in hexadecimal characters) to be used to initialize the host key." };
        var keyLength = new Option<uint>("--key-length", "-l") { Description = "Length of the resulting key (32, 48 or 64 bytes; default 32, or the HMAC's length)." };
        var nqn = new Option<string?>("--nqn", "-n") { Description = $"Host NQN to use for key transformation (default: {HostNqnFile})." };
        var hmac = new Option<uint>("--hmac", "-m") { Description = "HMAC function to use for key transformation (0 = none, 1 = SHA-256, 2 = SHA-384, 3 = SHA-512)." };
        var command = new Command("gen-dhchap-key", "Generate a DH-HMAC-CHAP host key usable for NVMe in-band authentication (as nvme-cli).");
        command.Options.Add(secret);
        command.Options.Add(keyLength);
        command.Options.Add(nqn);
        command.Options.Add(hmac);
        CommandRunner.SetAction(command, null, null, async (context, _) =>
        {
            var m = context.GetValue(hmac);
            if (m > 3)
            {
                throw new CliException($"Invalid HMAC identifier {m}");
            }

            var length = (int)context.GetValue(keyLength);
            if (m > 0)
            {
                var required = DhchapIdentifiers.HashLength((DhchapHashFunction)m);
                if (length == 0)
                {
                    length = required;
                }
                else if (length != required)
                {
                    throw new CliException($"Invalid key length {length} for SHA({required * 8})");
                }
            }
            else if (length == 0)
            {
                length = 32;
            }

            if (length is not (32 or 48 or 64))
            {
                throw new CliException($"Invalid key length {length}");
            }

            var raw = context.GetValue(secret) is { } hex ? ParseHex(hex, length) : RandomNumberGenerator.GetBytes(length);

            // nvme-cli (libnvme's nvme_gen_dhchap_key) stores the key already transformed with the host NQN when an
            // HMAC is chosen, and the transformation hash in the header: both are reproduced here.
            byte[] key = raw;
            if (m > 0)
            {
                var hostNqn = context.GetValue(nqn) ?? ReadHostNqn();
                key = DhchapSecret.Create(raw, (byte)m).Transform(hostNqn);
            }

            var text = DhchapSecret.Create(key, (byte)m).ToInterchangeString();
            CryptographicOperations.ZeroMemory(raw);
            CryptographicOperations.ZeroMemory(key);
            await context.Out.WriteAsync(text + "\n").ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    public static Command Check()
    {
        var key = new Option<string?>("--key", "-k") { Description = "DH-HMAC-CHAP key (DHHC-1:hh:<base64>:) to be validated." };
        var command = new Command("check-dhchap-key", "Check a DH-HMAC-CHAP host key for usability for NVMe in-band authentication (as nvme-cli).");
        command.Options.Add(key);
        CommandRunner.SetAction(command, null, null, async (context, _) =>
        {
            var text = context.GetValue(key) ?? throw new CliException("Key not specified");

            // nvme-cli reads the header with "DHHC-1:%02x" and checks the whole length per HMAC before decoding.
            if (!text.StartsWith("DHHC-1:", StringComparison.Ordinal) || text.Length < 10
                || !int.TryParse(text.AsSpan(7, 2), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out var hmac))
            {
                throw new CliException("Invalid key header");
            }

            var expected = hmac switch { 0 => 0, 1 => 59, 2 => 83, 3 => 103, _ => throw new CliException($"Invalid HMAC identifier {hmac}") };
            if (expected != 0 && text.Length != expected)
            {
                throw new CliException($"Invalid key length for SHA({DhchapIdentifiers.HashLength((DhchapHashFunction)hmac) * 8})");
            }

            if (!DhchapSecret.TryParse(text, out var secret, out var error))
            {
                throw new CliException(error);
            }

            await context.Out.WriteAsync(string.Create(CultureInfo.InvariantCulture, $"Key is valid (HMAC {hmac}, length {secret.Length}, CRC {secret.Crc:x8})\n")).ConfigureAwait(false);
            return ExitCodes.Ok;
        });
        return command;
    }

    private static byte[] ParseHex(string hex, int length)
    {
        if (hex.Length != length * 2)
        {
            throw new CliException($"Invalid secret length: {length * 2} hexadecimal characters are needed for a {length}-byte key");
        }

        try
        {
            return Convert.FromHexString(hex);
        }
        catch (FormatException)
        {
            throw new CliException("Invalid secret: not hexadecimal characters");
        }
    }

    internal static string ReadHostNqn(string option = "--nqn")
    {
        try
        {
            var nqn = File.ReadAllText(HostNqnFile, Encoding.UTF8).Trim();
            return nqn.Length > 0 ? nqn : throw new CliException($"Could not read host NQN: {HostNqnFile} is empty; give one with {option}");
        }
        catch (IOException)
        {
            throw new CliException($"Could not read host NQN from {HostNqnFile}; give one with {option}");
        }
    }
}
