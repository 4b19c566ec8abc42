using System.Net;

namespace NvmeTcp.Target.Tests;

/// <summary>Targets on 127.0.0.1, port 0.</summary>
internal static class TestTargets
{
    public const string Nqn = "nqn.2026-11.dev.nvmetcp:test";

    /// <summary>Options with one subsystem: namespace 1 (64 MiB, 512-byte blocks), namespace 2 (16 MiB, 4 KiB blocks).</summary>
    public static NvmeTargetOptions Options(Action<NvmeSubsystemOptions>? subsystem = null)
    {
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        var s = new NvmeSubsystemOptions(Nqn) { SerialNumber = "SN-TEST-1", ModelNumber = "Test Model", FirmwareRevision = "FR1" };
        s.Namespaces.Add(new NvmeNamespaceOptions(1, 64L << 20, 512));
        s.Namespaces.Add(new NvmeNamespaceOptions(2, 16L << 20, 4096));
        subsystem?.Invoke(s);
        options.Subsystems.Add(s);
        return options;
    }

    public static Task<NvmeTcpTarget> StartAsync(NvmeTargetOptions? options = null) =>
        NvmeTcpTarget.StartAsync(options ?? Options(), TestContext.Current.CancellationToken).WaitAsync(RawHost.Timeout);

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
