using Microsoft.Extensions.Logging;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;

using NvmeTcp.Protocol;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// The client library, unchanged, against real Linux nvmet (6.1 and 6.12): discovery, bring-up and Identify against
/// what the VM's configfs set up, verified I/O at every interesting size under every digest mode, the data-less
/// commands, concurrency, Connect rejections, orderly shutdown and persistence across connections.
/// </summary>
public sealed class ClientSuiteTests(NvmetVms vms) : InteropTest(vms)
{
    /// <summary>Digest modes: off, header, data, both.</summary>
    public static readonly string[] DigestModes = ["off", "header", "data", "both"];

    /// <summary>Kernels times digest modes times namespaces.</summary>
    public static MatrixTheoryData<string, string, uint> IoMatrix => new(NvmetVms.Kernels, DigestModes, [1u, 2u]);

    private async Task<NvmeTcpOptions> OptionsAsync(string kernel, string digests = "off", string nqn = NvmetTarget.InteropNqn)
    {
        var vm = await VmAsync(kernel);
        return new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = vm.Port,
            SubsystemNqn = nqn,
            HostNqn = NvmetTarget.HostNqn,
            HostId = new Guid("5c0e4a52-0000-4000-8000-0000000000ab"),
            HeaderDigest = digests is "header" or "both",
            DataDigest = digests is "data" or "both",
            IoQueueCount = 2,
            IoQueueSize = 32,
        };
    }

    private static byte[] Pattern(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Discovery_log_lists_the_subsystem_with_a_stable_generation(string kernel)
    {
        var options = await OptionsAsync(kernel);
        var token = Timeout();
        var first = await NvmeDiscovery.GetLogAsync(options, cancellationToken: token);
        var second = await NvmeDiscovery.GetLogAsync(options, cancellationToken: token);
        Assert.True(first.IsComplete);
        Assert.Equal(first.Header.Genctr, second.Header.Genctr);
        Assert.True(first.Header.Genctr > 0);
        var entry = Assert.Single(first.Entries, e => e.SubsystemNqn == NvmetTarget.InteropNqn);
        Assert.Equal(NvmeTransportType.Tcp, entry.TransportType);
        Assert.Equal(NvmeAddressFamily.IPv4, entry.AddressFamily);
        Assert.Equal(NvmeSubsystemType.Nvm, entry.SubsystemType);
        Assert.Equal("4420", entry.TransportServiceId);
        Assert.Equal("10.0.2.15", entry.TransportAddress);

        // A host not in allowed_hosts is not shown the restricted subsystem.
        Assert.DoesNotContain(first.Entries, e => e.SubsystemNqn == NvmetTarget.RestrictedNqn);

        // The entry gives the guest's view (10.0.2.15:4420); through QEMU's NAT the host needs its forwarded port.
        await using var controller = await NvmeDiscovery.ConnectAsync(entry, options, "127.0.0.1", options.Port, token);
        Assert.Equal(NvmetTarget.InteropNqn, controller.Identify.SubsystemNqn);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Bring_up_and_Identify_match_the_configfs_setup(string kernel)
    {
        await using var controller = await NvmeController.ConnectAsync(await OptionsAsync(kernel), Timeout());
        var identify = controller.Identify;
        Assert.Equal(NvmetTarget.InteropSerial, identify.SerialNumber);
        Assert.Equal(NvmetTarget.InteropModel, identify.ModelNumber);
        Assert.Equal(NvmetTarget.InteropNqn, identify.SubsystemNqn);
        Assert.Equal(1024u, identify.Nn);
        Assert.Equal(2, controller.IoQueues.Count);
        Assert.Equal([1u, 2u], controller.Namespaces.Select(n => n.Id));

        var ns1 = controller.GetNamespace(1);
        Assert.Equal(512, ns1.BlockSize);
        Assert.Equal((ulong)(NvmetTarget.Namespace1Bytes / 512), ns1.BlockCount);
        Assert.Equal(NvmetTarget.Namespace1Nguid, Convert.ToHexStringLower(ns1.Identify.Nguid.Span));
        Assert.Contains(ns1.Descriptors, d => d.Uuid == new Guid("4e564d45-0001-4000-8000-000000000001"));

        var ns2 = controller.GetNamespace(2);
        Assert.Equal(4096, ns2.BlockSize);
        Assert.Equal((ulong)(NvmetTarget.Namespace2Bytes / 4096), ns2.BlockCount);
        Assert.Equal(NvmetTarget.Namespace2Nguid, Convert.ToHexStringLower(ns2.Identify.Nguid.Span));
        Assert.Contains(ns2.Descriptors, d => d.Uuid == new Guid("4e564d45-0002-4000-8000-000000000002"));
    }

    [Theory]
    [MemberData(nameof(IoMatrix))]
    public async Task Writes_read_back_intact_at_every_size(string kernel, string digests, uint namespaceId)
    {
        var token = Timeout();
        await using var controller = await NvmeController.ConnectAsync(await OptionsAsync(kernel, digests), token);
        var ns = controller.GetNamespace(namespaceId);
        var queue = controller.IoQueues[0];
        var inCapsule = queue.InCapsuleDataSize / ns.BlockSize * ns.BlockSize;
        Assert.True(inCapsule >= ns.BlockSize, $"in-capsule size {queue.InCapsuleDataSize}");

        // One block, 4 KiB, the in-capsule limit and one block past it (R2T), 64 KiB, 1 MiB, and 4 MiB (split by MDTS).
        var sizes = new[] { ns.BlockSize, 4096, inCapsule, inCapsule + ns.BlockSize, 64 << 10, 1 << 20, 4 << 20 };
        var lba = (ulong)(namespaceId * 16 + DigestModes.ToList().IndexOf(digests)) * (ulong)((8 << 20) / ns.BlockSize) % ns.BlockCount;
        foreach (var size in sizes.Distinct())
        {
            var data = Pattern(size, size ^ (int)namespaceId);
            var back = new byte[size];
            await queue.WriteAsync(ns, lba, data, cancellationToken: token);
            await controller.IoQueues[1].ReadAsync(ns, lba, back, token);
            Assert.True(data.AsSpan().SequenceEqual(back), $"{size} bytes at LBA {lba} of namespace {namespaceId} read back differently");
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Flush_write_zeroes_and_deallocate(string kernel)
    {
        var token = Timeout();
        await using var controller = await NvmeController.ConnectAsync(await OptionsAsync(kernel), token);
        Assert.True((controller.Identify.Oncs & (1 << 3)) != 0, "ONCS advertises Write Zeroes");
        Assert.True((controller.Identify.Oncs & (1 << 2)) != 0, "ONCS advertises Dataset Management");
        var queue = controller.IoQueues[0];
        const ulong Lba = 100;

        // Namespace 1, the RAM disk: data, flush, zeroes that read back as zeroes, deallocate.
        var ns1 = controller.GetNamespace(1);
        var length = 16 * ns1.BlockSize;
        await queue.WriteAsync(ns1, Lba, Pattern(length, 11), cancellationToken: token);
        await queue.FlushAsync(ns1, token);
        await queue.WriteZeroesAsync(ns1, Lba, 16, cancellationToken: token);
        var back = new byte[length];
        await queue.ReadAsync(ns1, Lba, back, token);
        Assert.All(back, b => Assert.Equal(0, b));
        await queue.DeallocateAsync(ns1, [(Lba, 16u), (Lba + 64, 8u)], token);

        // Namespace 2, a file on tmpfs: nvmet's file backend zeroes with fallocate(FALLOC_FL_ZERO_RANGE), which tmpfs
        // does not implement, so Write Zeroes fails there with a status (6.1: SCT 1 SC 0x83, 6.12: Invalid Opcode).
        // That failure is the controller's answer for that command only: the queue goes on.
        var ns2 = controller.GetNamespace(2);
        await queue.FlushAsync(ns2, token);
        var zeroes = await Assert.ThrowsAsync<NvmeStatusException>(async () => await queue.WriteZeroesAsync(ns2, Lba, 4, cancellationToken: token));
        Assert.True(zeroes.Status.DoNotRetry);
        await queue.DeallocateAsync(ns2, [(Lba, 4u)], token);
        var data = Pattern(4 * ns2.BlockSize, 12);
        await queue.WriteAsync(ns2, Lba, data, cancellationToken: token);
        back = new byte[data.Length];
        await queue.ReadAsync(ns2, Lba, back, token);
        Assert.Equal(data, back);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Many_callers_on_several_queues_each_read_their_own_data(string kernel)
    {
        var token = Timeout();
        var options = await OptionsAsync(kernel);
        options.IoQueueCount = 4;
        await using var controller = await NvmeController.ConnectAsync(options, token);
        Assert.Equal(4, controller.IoQueues.Count);
        var ns = controller.GetNamespace(1);
        var callers = Enumerable.Range(0, 64).Select(async caller =>
        {
            var queue = controller.NextIoQueue();
            var lba = (ulong)(2048 + caller * 64);
            for (var round = 0; round < 8; round++)
            {
                var data = Pattern(8 * ns.BlockSize * (1 + (round % 3)), caller * 100 + round);
                var back = new byte[data.Length];
                await queue.WriteAsync(ns, lba, data, cancellationToken: token);
                await queue.ReadAsync(ns, lba, back, token);
                Assert.True(data.AsSpan().SequenceEqual(back), $"caller {caller} round {round}");
            }
        });
        await Task.WhenAll(callers);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Receive_threads_with_inline_completions_move_verified_data_with_and_without_digests(string kernel)
    {
        // The opt-in receive modes (blocking reads on a thread per queue, completions on it, the loop parking while
        // callers' code runs) against nvmet: in-capsule, R2T and large writes, reads of every size, 32 callers on 4
        // queues, with no digests and with both.
        var token = Timeout();
        foreach (var digests in new[] { "off", "both" })
        {
            var options = await OptionsAsync(kernel, digests);
            options.IoQueueCount = 4;
            options.DedicatedReceiveThreads = true;
            options.InlineCompletions = true;
            await using var controller = await NvmeController.ConnectAsync(options, token);
            var ns = controller.GetNamespace(1);
            var sizes = new[] { ns.BlockSize, 4096, 64 << 10, 1 << 20 };
            var callers = Enumerable.Range(0, 32).Select(async caller =>
            {
                var queue = controller.IoQueues[caller % controller.IoQueues.Count];
                var lba = (ulong)(((16 << 20) + (caller << 20)) / ns.BlockSize);
                for (var round = 0; round < sizes.Length; round++)
                {
                    var data = Pattern(sizes[(caller + round) % sizes.Length], caller * 10 + round);
                    var back = new byte[data.Length];
                    await queue.WriteAsync(ns, lba, data, cancellationToken: token);
                    await queue.ReadAsync(ns, lba, back, token);
                    Assert.True(data.AsSpan().SequenceEqual(back), $"digests {digests}, caller {caller}, round {round}");
                }
            });
            await Task.WhenAll(callers);
        }
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Unknown_subsystem_is_Connect_Invalid_Parameters(string kernel)
    {
        var options = await OptionsAsync(kernel, nqn: "nqn.2026-11.dev.nvmetcp:no-such-subsystem");
        var error = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(options, Timeout()));
        Assert.Equal(NvmeStatusCodeType.CommandSpecific, error.Status.CodeType);
        Assert.Equal(0x82, error.Status.Code);
        Assert.True(error.Status.DoNotRetry);
        Assert.Equal("Connect Invalid Parameters", error.StatusName);

        // IATTR (bit 16) set: the bad field is in the Connect data, at IPO 256: SUBNQN.
        Assert.Equal(0x00010100u, error.Dword0);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Disallowed_host_is_Connect_Invalid_Host_and_the_allowed_host_connects(string kernel)
    {
        var options = await OptionsAsync(kernel, nqn: NvmetTarget.RestrictedNqn);
        options.HostNqn = NvmetTarget.DisallowedHostNqn;
        var error = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(options, Timeout()));
        Assert.Equal(0x84, error.Status.Code);
        Assert.Equal("Connect Invalid Host", error.StatusName);

        options.HostNqn = NvmetTarget.AllowedHostNqn;
        await using var controller = await NvmeController.ConnectAsync(options, Timeout());
        Assert.Equal(NvmetTarget.RestrictedNqn, controller.Identify.SubsystemNqn);
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Dispose_shuts_the_controller_down_in_order(string kernel)
    {
        var logs = new ListLoggerProvider();
        using var factory = LoggerFactory.Create(builder => builder.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var options = await OptionsAsync(kernel);
        options.LoggerFactory = factory;
        var controller = await NvmeController.ConnectAsync(options, Timeout());
        await controller.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Contains(logs.Messages, m => m.EventId == 1002 && m.Text.Contains("orderly shutdown complete", StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(Kernels))]
    public async Task Data_written_on_one_association_reads_back_on_the_next(string kernel)
    {
        var token = Timeout();
        var options = await OptionsAsync(kernel);
        var data = Pattern(64 << 10, 4242);
        const ulong Lba = 777;
        await using (var first = await NvmeController.ConnectAsync(options, token))
        {
            await first.IoQueues[0].WriteAsync(first.GetNamespace(2), Lba, data, cancellationToken: token);
        }

        await using var second = await NvmeController.ConnectAsync(options, token);
        var back = new byte[data.Length];
        await second.IoQueues[1].ReadAsync(second.GetNamespace(2), Lba, back, token);
        Assert.Equal(data, back);
    }
}
