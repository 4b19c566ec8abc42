using System.Diagnostics;
using NvmeTcp.Protocol.Nvm;

namespace NvmeTcp.Target.Tests.Hostile;

/// <summary>
/// The hostile-host tests measure the process (managed heap, threads, open handles), so they run alone: no other
/// test class allocates or opens sockets meanwhile.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class HostileCollection
{
    public const string Name = "Hostile hosts";
}

/// <summary>What the process holds, measured after a full, compacting garbage collection.</summary>
/// <param name="ManagedBytes">The managed heap (GC.GetTotalMemory after collecting).</param>
/// <param name="Threads">OS threads of the process.</param>
/// <param name="Handles">Open file descriptors (/proc/self/fd): sockets, files, pipes.</param>
internal sealed record ProcessResources(long ManagedBytes, int Threads, int Handles)
{
    public static ProcessResources Take()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        using var process = Process.GetCurrentProcess();
        return new ProcessResources(GC.GetTotalMemory(forceFullCollection: true), process.Threads.Count, Directory.GetFileSystemEntries("/proc/self/fd").Length);
    }

    /// <summary>
    /// Fails unless this snapshot is within the stated growth over <paramref name="baseline"/>. The bounds are generous
    /// (the thread pool grows and shrinks on its own, the runtime opens files lazily) but far below what a leak per
    /// connection or per command reaches after a few hundred of them.
    /// </summary>
    public void AssertWithin(ProcessResources baseline, string after, long managedBytes = 32L << 20, int threads = 48, int handles = 48)
    {
        Assert.True(ManagedBytes - baseline.ManagedBytes <= managedBytes, $"{after}: managed heap grew by {(ManagedBytes - baseline.ManagedBytes) >> 10} KiB (bound {managedBytes >> 10} KiB).");
        Assert.True(Threads - baseline.Threads <= threads, $"{after}: {Threads - baseline.Threads} more threads (bound {threads}).");
        Assert.True(Handles - baseline.Handles <= handles, $"{after}: {Handles - baseline.Handles} more open handles (bound {handles}).");
    }
}

/// <summary>Helpers for the hostile-host suite.</summary>
internal static class HostileHost
{
    /// <summary>
    /// A well-behaved host after an attack: bring-up on a new admin queue, an I/O queue, a write in the capsule, a
    /// write by R2T, both read back. Proves that the target still serves correctly.
    /// </summary>
    public static async Task AssertServesCleanHostAsync(NvmeTcpTarget target, string after)
    {
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn);
        await using var _ = admin;
        await using var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid);
        var small = TestTargets.Pattern(4096, 11);
        var large = TestTargets.Pattern(64 * 1024, 12);
        var (w1, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, 4000, 8, 4096).InCapsule(), small);
        var (w2, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, 5000, 128, (uint)large.Length), writeData: large);
        Assert.True(w1.Status.IsSuccess && w2.Status.IsSuccess, $"{after}: writes failed: {w1.Status}, {w2.Status}");
        var (r1, back1) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 4000, 8, 4096));
        var (r2, back2) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 5000, 128, (uint)large.Length));
        Assert.True(r1.Status.IsSuccess && r2.Status.IsSuccess, $"{after}: reads failed: {r1.Status}, {r2.Status}");
        Assert.Equal(small, back1);
        Assert.Equal(large, back2);
    }

    /// <summary>Waits (bounded) until the target has closed and forgotten every connection.</summary>
    public static Task ConnectionsGoneAsync(NvmeTcpTarget target, int expected = 0) =>
        TestTime.UntilAsync(() => target.ConnectionCount <= expected, $"the target to drop to {expected} connections (has {target.ConnectionCount})");
}
