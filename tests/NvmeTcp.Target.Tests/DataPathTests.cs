using NvmeTcp.Client;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

/// <summary>The data path on the default receive loop; <see cref="DataPathReceiveThreadTests"/> runs every test again with <see cref="NvmeTargetOptions.DedicatedReceiveThreads"/>.</summary>
public class DataPathTests
{
    /// <summary>Whether the targets of these tests receive on a thread per connection.</summary>
    protected virtual bool DedicatedReceiveThreads => false;

    private Task<NvmeTcpTarget> StartAsync(NvmeTargetOptions? options = null)
    {
        options ??= TestTargets.Options();
        options.DedicatedReceiveThreads = DedicatedReceiveThreads;
        return TestTargets.StartAsync(options);
    }

    private async Task<(RawHost Admin, RawHost Io)> OpenAsync(NvmeTcpTarget target, DigestTypes digests = DigestTypes.None, byte hpda = 0, uint maxR2T = 0, ConnectAttributes attributes = ConnectAttributes.None)
    {
        var (admin, cntlid) = await RawHost.AdminAsync(target.EndPoint, TestTargets.Nqn, digests);
        var io = await RawHost.IoAsync(target.EndPoint, TestTargets.Nqn, cntlid, 1, digests, hpda, maxR2T, attributes);

        // Both queues answered, each on the path the mode says.
        Assert.Equal(DedicatedReceiveThreads ? 2 : 0, target.Testing.ReceiveThreadsStarted);
        return (admin, io);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task In_capsule_write_then_read_back_with_digests(int digestBits)
    {
        var digests = (DigestTypes)digestBits;
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target, digests);
        await using var _1 = admin;
        await using var _2 = io;
        Assert.Equal(digests, io.IcResp.Digests);
        var data = TestTargets.Pattern(4096, 1);
        var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, 100, 8, 4096).InCapsule(), data);
        Assert.True(write.Status.IsSuccess, write.Status.ToString());
        Assert.Empty(io.R2Ts);
        var (read, back) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 100, 8, 4096));
        Assert.True(read.Status.IsSuccess);
        Assert.Equal(data, back);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public async Task R2T_write_with_several_h2c_data_and_several_r2ts(int digestBits)
    {
        var digests = (DigestTypes)digestBits;
        var options = TestTargets.Options();
        options.MaxH2CData = 4096;
        options.R2TSize = 16384;
        options.MaxOutstandingR2Ts = 2;
        await using var target = await StartAsync(options);
        var (admin, io) = await OpenAsync(target, digests, maxR2T: 1);
        await using var _1 = admin;
        await using var _2 = io;
        var data = TestTargets.Pattern(64 * 1024, 2);
        var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(2, 3, 16, (uint)data.Length), writeData: data);
        Assert.True(write.Status.IsSuccess, write.Status.ToString());
        Assert.Equal(4, io.R2Ts.Count);
        Assert.All(io.R2Ts, r => Assert.Equal(16384u, r.R2tl));
        Assert.Equal([0u, 16384u, 32768u, 49152u], io.R2Ts.Select(r => r.R2to));
        Assert.Equal(16, io.H2CDataSent);
        Assert.Equal(4, io.R2Ts.Select(r => r.Ttag).Distinct().Count());
        var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(2, 3, 16, (uint)data.Length));
        Assert.Equal(data, back);
    }

    [Fact]
    public async Task Default_r2t_asks_for_everything_at_once_as_nvmet()
    {
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        var data = TestTargets.Pattern(65536, 3);
        var (write, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, 0, 128, 65536), writeData: data);
        Assert.True(write.Status.IsSuccess);
        var r2t = Assert.Single(io.R2Ts);
        Assert.Equal(65536u, r2t.R2tl);
    }

    [Theory]
    [InlineData(false, NvmeC2HSuccessPolicy.WhenSqFlowControlDisabled, false)]
    [InlineData(true, NvmeC2HSuccessPolicy.WhenSqFlowControlDisabled, true)]
    [InlineData(false, NvmeC2HSuccessPolicy.Always, true)]
    [InlineData(true, NvmeC2HSuccessPolicy.Never, false)]
    public async Task Chunked_read_with_and_without_success(bool disableSqFlow, NvmeC2HSuccessPolicy policy, bool expectSuccess)
    {
        var options = TestTargets.Options();
        options.C2HDataChunkSize = 4096;
        options.C2HSuccess = policy;
        await using var target = await StartAsync(options);
        var (admin, io) = await OpenAsync(target, attributes: disableSqFlow ? ConnectAttributes.DisableSqFlowControl : ConnectAttributes.None);
        await using var _1 = admin;
        await using var _2 = io;
        var data = TestTargets.Pattern(16384, 4);
        await io.ExecuteAsync(ReadWriteCommands.Write(1, 8, 32, 16384), writeData: data);
        io.C2HData.Clear();
        var (read, back) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 8, 32, 16384));
        Assert.True(read.Status.IsSuccess);
        Assert.Equal(data, back);
        Assert.Equal(4, io.C2HData.Count);
        Assert.Equal([false, false, false, true], io.C2HData.Select(c => c.Last));
        Assert.Equal(expectSuccess, io.C2HData[^1].Success);
        if (disableSqFlow && !expectSuccess)
        {
            Assert.Equal(0xFFFF, read.Sqhd);
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    [InlineData(31)]
    public async Task Hpda_is_honoured_for_c2h_data(byte hpda)
    {
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target, DigestTypes.Header, hpda: hpda);
        await using var _1 = admin;
        await using var _2 = io;
        var (read, back) = await io.ExecuteAsync(ReadWriteCommands.Read(2, 0, 1, 4096));
        Assert.True(read.Status.IsSuccess);
        Assert.Equal(new byte[4096], back);
    }

    [Fact]
    public async Task Lba_range_mdts_and_length_checks()
    {
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        var blocks = (64L << 20) / 512;
        var (outOfRange, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, (ulong)blocks - 1, 2, 1024));
        StatusAssert.Is(StatusCodes.LbaOutOfRange, outOfRange, dnr: true);
        var (overMdts, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 512, 512 * 512)); // 256 KiB > 128 KiB
        StatusAssert.Is(StatusCodes.InvalidField, overMdts, dnr: true);
        var (badLength, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 2, 512));
        StatusAssert.Is(StatusCodes.DataSglLengthInvalid, badLength, dnr: true);
        var (noNamespace, _) = await io.ExecuteAsync(ReadWriteCommands.Read(9, 0, 1, 512));
        StatusAssert.Is(StatusCodes.InvalidNamespaceOrFormat, noNamespace, dnr: true);
        var (writeOutOfRange, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, (ulong)blocks, 1, 512), writeData: new byte[512]);
        StatusAssert.Is(StatusCodes.LbaOutOfRange, writeOutOfRange, dnr: true);
        Assert.Empty(io.R2Ts); // refused before any R2T, as nvmet
    }

    [Fact]
    public async Task In_capsule_data_over_the_queue_limit_is_data_sgl_length_invalid()
    {
        await using var target = await StartAsync(TestTargets.Options(s => s.Ioccsz = (4096 + 64) / 16));
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        var (cqe, _) = await io.ExecuteAsync(ReadWriteCommands.Write(1, 0, 16, 8192).InCapsule(), new byte[8192]);
        StatusAssert.Is(StatusCodes.DataSglLengthInvalid, cqe, dnr: true);
        var (offset, _) = await io.ExecuteAsync(WithSglAddress(ReadWriteCommands.Write(1, 0, 1, 512).InCapsule(), 4), new byte[512]);
        StatusAssert.Is(StatusCodes.SglOffsetInvalid, offset, dnr: true);
        var sqe = ReadWriteCommands.Read(1, 0, 1, 512);
        sqe.SglType = 0x20;
        var (type, _) = await io.ExecuteAsync(sqe);
        StatusAssert.Is(StatusCodes.SglDescriptorTypeInvalid, type, dnr: true);
    }

    [Fact]
    public async Task Data_digest_error_on_write_fails_only_that_command()
    {
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target, DigestTypes.Data);
        await using var _1 = admin;
        await using var _2 = io;
        var sqe = ReadWriteCommands.Write(1, 0, 1, 512).InCapsule();
        sqe.Cid = io.NextCid();
        var pdu = io.EncodeCommand(sqe, new byte[512]);
        pdu[^1] ^= 0xFF;
        await io.SendAsync(pdu);
        var resp = await io.ReceiveAsync();
        StatusAssert.Is(StatusCodes.TransientTransportError, resp.Header.Cqe, dnr: false);
        var (read, _) = await io.ExecuteAsync(ReadWriteCommands.Read(1, 0, 1, 512));
        Assert.True(read.Status.IsSuccess);
        Assert.Empty(target.Testing.Violations);
    }

    [Fact]
    public async Task Compare_write_zeroes_dsm_flush()
    {
        await using var target = await StartAsync();
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        var data = TestTargets.Pattern(8192, 5);
        await io.ExecuteAsync(ReadWriteCommands.Write(2, 10, 2, 8192).InCapsule(), data);
        var (same, _) = await io.ExecuteAsync(ReadWriteCommands.Compare(2, 10, 2, 8192).InCapsule(), data);
        Assert.True(same.Status.IsSuccess);
        var other = (byte[])data.Clone();
        other[5000] ^= 1;
        var (differs, _) = await io.ExecuteAsync(ReadWriteCommands.Compare(2, 10, 2, 8192), writeData: other);
        StatusAssert.Is(StatusCodes.CompareFailure, differs, dnr: true);
        Assert.Equal(2, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 2));

        var (zeroes, _) = await io.ExecuteAsync(ReadWriteCommands.WriteZeroes(2, 10, 1));
        Assert.True(zeroes.Status.IsSuccess);
        Assert.Equal(1, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 2));
        var ranges = new byte[16];
        DatasetManagementCommand.WriteRange(ranges, 0, 11, 1);
        var (dsm, _) = await io.ExecuteAsync(DatasetManagementCommand.Create(2, 1, DatasetAttributes.Deallocate).InCapsule(), ranges);
        Assert.True(dsm.Status.IsSuccess);
        Assert.Equal(0, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 2));
        var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(2, 10, 2, 8192));
        Assert.Equal(new byte[8192], back);
        var (flush, _) = await io.ExecuteAsync(ReadWriteCommands.Flush(2));
        Assert.True(flush.Status.IsSuccess);
    }

    [Fact]
    public async Task Null_namespace_reads_zeros_and_drops_writes()
    {
        await using var target = await StartAsync(TestTargets.Options(s => s.Namespaces.Add(new NvmeNamespaceOptions(3, 1L << 40, 4096, NvmeNamespaceBacking.Null))));
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        await io.ExecuteAsync(ReadWriteCommands.Write(3, 5, 1, 4096).InCapsule(), TestTargets.Pattern(4096, 6));
        var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(3, 5, 1, 4096));
        Assert.Equal(new byte[4096], back);
        Assert.Equal(0, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 3));
    }

    [Fact]
    public async Task One_tib_sparse_namespace_costs_only_what_is_written()
    {
        await using var target = await StartAsync(TestTargets.Options(s => s.Namespaces.Add(new NvmeNamespaceOptions(3, 1L << 40, 4096))));
        var (admin, io) = await OpenAsync(target);
        await using var _1 = admin;
        await using var _2 = io;
        ulong[] lbas = [0, 12345, 1L << 27, (1UL << 28) - 1];
        foreach (var lba in lbas)
        {
            var (w, _) = await io.ExecuteAsync(ReadWriteCommands.Write(3, lba, 1, 4096).InCapsule(), TestTargets.Pattern(4096, (int)lba));
            Assert.True(w.Status.IsSuccess, w.Status.ToString());
        }

        Assert.Equal(lbas.Length, target.Testing.GetAllocatedPageCount(TestTargets.Nqn, 3));
        foreach (var lba in lbas)
        {
            var (_, back) = await io.ExecuteAsync(ReadWriteCommands.Read(3, lba, 1, 4096));
            Assert.Equal(TestTargets.Pattern(4096, (int)lba), back);
        }

        var (identify, data) = await admin.ExecuteAsync(IdentifyCommand.Namespace(3));
        var ns = NvmeIdentifyNamespace.Parse(data);
        Assert.Equal(1UL << 28, ns.Nsze);
        Assert.Equal(4UL, ns.Nuse);
    }

    private static Sqe WithSglAddress(Sqe sqe, ulong address)
    {
        sqe.SglAddress = address;
        return sqe;
    }
}
