using NvmeTcp.Cli.Commands;
using NvmeTcp.Protocol.Tls;

namespace NvmeTcp.Cli.Tests;

/// <summary>gen-tls-key and check-tls-key: nvme-cli's options and output, the keyring options refused, --keyfile.</summary>
public sealed class TlsKeyCliTests
{
    // libnvme test/psk.c's configured PSK; the expected strings are its test vectors and the nvme-cli 2.16 output
    // compared in the interop test LinuxHostTests.Newest_nvme_cli_gen_and_check_tls_key_match_our_derivation.
    private const string Secret32 = "5512dbb6737d0106f65975b773dfb011ffc344bcf442e2dd6d8bc4870b5d5b03";
    private const string Secret48 = Secret32 + "ffc344bcf442e2dd6d8bc4870b5d5b03";
    private const string Key01 = "NVMeTLSkey-1:01:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwNf9LrZ:";
    private const string Key02 = "NVMeTLSkey-1:02:VRLbtnN9AQb2WXW3c9+wEf/DRLz0QuLdbYvEhwtdWwP/w0S89ELi3W2LxIcLXVsDn8kXZQ==:";
    private const string Host = "nqn.psk-test-host";
    private const string Subsystem = "nqn.psk-test-subsys";

    [Fact]
    public async Task Gen_tls_key_prints_the_interchange_form_as_nvme_cli()
    {
        var sha256 = await Cli.RunAsync(["gen-tls-key", "--secret", Secret32]);
        Assert.Equal(0, sha256.ExitCode);
        Assert.Equal(Key01 + "\n", sha256.Out);
        var sha384 = await Cli.RunAsync(["gen-tls-key", "-s", Secret48, "-m", "2"]);
        Assert.Equal(Key02 + "\n", sha384.Out);
        var random = await Cli.RunAsync(["gen-tls-key", "--hmac", "2"]);
        Assert.Matches("^NVMeTLSkey-1:02:[A-Za-z0-9+/]{70}==:\n$", random.Out);
        Assert.True(NvmeTlsKey.TryParse(random.Out.TrimEnd('\n'), out _, out _));
        var excess = await Cli.RunAsync(["gen-tls-key", "-s", Secret48, "-m", "1"]);
        Assert.Equal(Key01 + "\n", excess.Out);
        Assert.Contains("Skipping excess secret bytes", excess.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new[] { "gen-tls-key", "-m", "3" }, "Invalid HMAC identifier 3")]
    [InlineData(new[] { "gen-tls-key", "-m", "0" }, "Invalid HMAC identifier 0")]
    [InlineData(new[] { "gen-tls-key", "-I", "2" }, "Invalid TLS identity version 2")]
    [InlineData(new[] { "gen-tls-key", "-s", "0011", "-m", "1" }, "Invalid key length (2 bytes)")]
    [InlineData(new[] { "gen-tls-key", "-s", "zz", "-m", "1" }, "not hexadecimal")]
    [InlineData(new[] { "gen-tls-key", "--insert", "-c", Subsystem, "-n", Host }, "kernel keyring")]
    [InlineData(new[] { "gen-tls-key", "--keyring", ".nvme" }, "kernel keyring")]
    [InlineData(new[] { "gen-tls-key", "--compat" }, "--compat")]
    [InlineData(new[] { "check-tls-key", "-c", Subsystem, "-n", Host }, "No key data")]
    [InlineData(new[] { "check-tls-key", "-d", Key01, "-n", Host }, "Need to specify a subsystem NQN")]
    [InlineData(new[] { "check-tls-key", "-d", Key01, "-c", Subsystem, "-n", Host, "-I", "2" }, "Invalid TLS identity version 2")]
    [InlineData(new[] { "check-tls-key", "-d", Key01, "-c", Subsystem, "-n", Host, "-i" }, "kernel keyring")]
    [InlineData(new[] { "check-tls-key", "-d", Key01, "-c", Subsystem, "-n", Host, "-C" }, "--compat")]
    public async Task Refusals_say_what_is_wrong(string[] args, string message)
    {
        var result = await Cli.RunAsync(args);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.Empty(result.Out);
    }

    [Theory]
    [InlineData(Key01, "1", "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU=")]
    [InlineData(Key02, "1", "NVMe1R02 nqn.psk-test-host nqn.psk-test-subsys QhW2+Rp6RzHlNtCslyRxMnwJ11tKKhz8JCAQpQ+XUD8f9td1VeH5h53yz2wKJG1a")]
    [InlineData(Key01, "0", "NVMe0R01 nqn.psk-test-host nqn.psk-test-subsys")]
    public async Task Check_tls_key_prints_the_identity_as_nvme_cli(string key, string version, string expected)
    {
        var result = await Cli.RunAsync(["check-tls-key", "--keydata", key, "--hostnqn", Host, "--subsysnqn", Subsystem, "--identity", version]);
        Assert.Equal(0, result.ExitCode);
        Assert.Equal(expected + "\n", result.Out);
    }

    [Fact]
    public async Task Check_tls_key_refuses_a_bad_crc_without_quoting_the_key()
    {
        var bad = Key01.Replace("LrZ:", "LrA:", StringComparison.Ordinal);
        var result = await Cli.RunAsync(["check-tls-key", "-d", bad, "-c", Subsystem, "-n", Host]);
        Assert.Equal(ExitCodes.Usage, result.ExitCode);
        Assert.Contains("CRC", result.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("VRLbtn", result.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keyfile_gets_the_identity_and_the_derived_tls_psk_as_nvme_cli_writes_them()
    {
        var directory = Directory.CreateTempSubdirectory("nvmetcp-tls-");
        try
        {
            var path = Path.Combine(directory.FullName, "keys");
            var v1 = await Cli.RunAsync(["check-tls-key", "-d", Key01, "-c", Subsystem, "-n", Host, "-I", "1", "--keyfile", path]);
            Assert.Equal(0, v1.ExitCode);
            var v0 = await Cli.RunAsync(["gen-tls-key", "-s", Secret48, "-m", "2", "-c", Subsystem, "-n", Host, "-f", path]);
            Assert.Equal(Key02 + "\n", v0.Out);

            // python (see NvmeTlsKeyKnownAnswerTests): the TLS PSKs of these keys for identities v1 and v0.
            var expected1 = NvmeTlsKey.Create(Convert.FromHexString("8fc3c0badfd4c0c66fa3ca33aadd0314f85536cc9bc47338b60f3e6e563786ca"), NvmeTlsPskHash.Sha256).ToInterchangeString();
            var expected0 = NvmeTlsKey.Create(Convert.FromHexString("f42ba63824cdfe421914c582921f85b5b5b7e2d4df084caeedc9be20b212e8bb0fe8a23e9d59a1c8fc6449da4970a78d"), NvmeTlsPskHash.Sha384).ToInterchangeString();
            Assert.Equal(
                [
                    "NVMe1R01 nqn.psk-test-host nqn.psk-test-subsys iSbjiStwJ/1TrTvDlt2fjFmzvsytOJelidNnA+X5lEU= " + expected1,
                    "NVMe0R02 nqn.psk-test-host nqn.psk-test-subsys " + expected0.Replace("NVMeTLSkey-1:", "NVMeTLSkey-0:", StringComparison.Ordinal),
                ],
                File.ReadAllLines(path));
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
