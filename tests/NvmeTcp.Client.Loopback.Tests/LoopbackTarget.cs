using System.Net;
using NvmeTcp.Client.Transport;
using NvmeTcp.Target;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>An in-process target on a free loopback port with one subsystem of a 512-byte and a 4096-byte namespace.</summary>
internal static class LoopbackTarget
{
    public const string Nqn = "nqn.2026-11.dev.nvmetcp:loopback";
    public const string Serial = "LOOPBACK-0001";
    public const string Model = "NvmeTcp loopback";
    public const string RestrictedNqn = "nqn.2026-11.dev.nvmetcp:restricted";
    public const string AllowedHost = "nqn.2014-08.org.nvmexpress:uuid:11111111-2222-3333-4444-555555555555";

    public static readonly TimeSpan Bound = TimeSpan.FromSeconds(20);

    public static Task<NvmeTcpTarget> StartAsync(Action<NvmeTargetOptions>? configure = null, Action<NvmeSubsystemOptions>? subsystem = null)
    {
        var options = new NvmeTargetOptions { ListenEndPoint = new IPEndPoint(IPAddress.Loopback, 0) };
        var main = new NvmeSubsystemOptions(Nqn) { SerialNumber = Serial, ModelNumber = Model };
        main.Namespaces.Add(new NvmeNamespaceOptions(1, 64L << 20, 512));
        main.Namespaces.Add(new NvmeNamespaceOptions(2, 1L << 30, 4096));
        subsystem?.Invoke(main);
        options.Subsystems.Add(main);
        var restricted = new NvmeSubsystemOptions(RestrictedNqn);
        restricted.AllowedHosts.Add(AllowedHost);
        restricted.Namespaces.Add(new NvmeNamespaceOptions(1, 1L << 20, 512));
        options.Subsystems.Add(restricted);
        configure?.Invoke(options);
        return NvmeTcpTarget.StartAsync(options);
    }

    public static NvmeTcpOptions ClientOptions(NvmeTcpTarget target, int queues = 2, bool headerDigest = false, bool dataDigest = false) => new()
    {
        Address = "127.0.0.1",
        Port = target.EndPoint.Port,
        SubsystemNqn = Nqn,
        IoQueueCount = queues,
        IoQueueSize = 32,
        HeaderDigest = headerDigest,
        DataDigest = dataDigest,
    };

    public static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}

/// <summary>The leak check of the fault and recovery tests: no socket, background work or command slot left.</summary>
internal static class Leaks
{
    /// <summary>
    /// Waits (at most 5 s) for what the disposed controllers held to be released, then asserts that nothing is left:
    /// a dispose returns once every connection closed, but a loop's last continuation or a caller's late
    /// <c>await</c> may still be on its way.
    /// </summary>
    public static async Task AssertNoneAsync(ResourceCounters resources)
    {
        for (var i = 0; i < 200 && !resources.IsIdle; i++)
        {
            await Task.Delay(25);
        }

        Assert.True(resources.IsIdle, $"leaked after dispose: {resources}");
    }
}
