using System.Buffers.Binary;
using System.Text;
using NvmeTcp.Protocol;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Interop.Tests.Raw;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// Controller bring-up (Connect, CC.EN, CSTS.RDY) and Identify against Linux nvmet: checks that the VM's target is
/// the one vm/init.sh describes (serial, model, LBA sizes 512 and 4096, NGUIDs).
/// </summary>
public sealed class IdentifyTests(NvmetVms vms) : InteropTest(vms)
{
    private const uint CcOffset = 0x14;
    private const uint CstsOffset = 0x1C;

    // EN, IOSQES 6 (64-byte SQEs), IOCQES 4 (16-byte CQEs); CSS 0, MPS 0 (4 KiB).
    private const uint CcEnable = 0x0046_0001;

    [Theory]
    [MemberData(nameof(KernelsAndDigests), MemberType = typeof(InteropTest))]
    public async Task Identify_controller_reports_the_configured_serial_and_model(string kernel, string digests)
    {
        var cancellationToken = Timeout();
        await using var connection = await EnabledAdminQueueAsync(kernel, Digests(digests), cancellationToken);

        var data = await IdentifyAsync(connection, cns: 1, nsid: 0, cancellationToken);

        Assert.Equal(NvmetTarget.InteropSerial, Ascii(data.AsSpan(4, 20)));
        Assert.Equal(NvmetTarget.InteropModel, Ascii(data.AsSpan(24, 40)));
        Assert.Equal(NvmetTarget.InteropNqn, Encoding.ASCII.GetString(data.AsSpan(768, 256)).TrimEnd('\0'));
    }

    [Theory]
    [MemberData(nameof(Kernels), MemberType = typeof(InteropTest))]
    public async Task Namespace_1_has_512_byte_and_namespace_2_has_4096_byte_LBAs(string kernel)
    {
        var cancellationToken = Timeout();
        await using var connection = await EnabledAdminQueueAsync(kernel, DigestTypes.None, cancellationToken);

        var ns1 = await IdentifyAsync(connection, cns: 0, nsid: 1, cancellationToken);
        var ns2 = await IdentifyAsync(connection, cns: 0, nsid: 2, cancellationToken);

        TestContext.Current.TestOutputHelper?.WriteLine($"ns1: {LbaSize(ns1)} x {Nsze(ns1)}; ns2: {LbaSize(ns2)} x {Nsze(ns2)}");
        Assert.Equal(512, LbaSize(ns1));
        Assert.Equal(NvmetTarget.Namespace1Bytes / 512, (long)Nsze(ns1));
        Assert.Equal(NvmetTarget.Namespace1Nguid, Convert.ToHexStringLower(ns1.AsSpan(104, 16)));
        Assert.Equal(4096, LbaSize(ns2));
        Assert.Equal(NvmetTarget.Namespace2Bytes / 4096, (long)Nsze(ns2));
        Assert.Equal(NvmetTarget.Namespace2Nguid, Convert.ToHexStringLower(ns2.AsSpan(104, 16)));
    }

    /// <summary>Connect, then Property Set CC.EN = 1 and poll CSTS.RDY (nvmet refuses admin commands before).</summary>
    private async Task<RawConnection> EnabledAdminQueueAsync(string kernel, DigestTypes digests, CancellationToken cancellationToken)
    {
        var connection = await OpenAsync(kernel, digests, cancellationToken);
        try
        {
            var connect = await ConnectTests.ConnectAsync(connection, NvmetTarget.InteropNqn, NvmetTarget.HostNqn, cancellationToken);
            Assert.True(connect.Status.IsSuccess, $"Connect: {connect.Status}");
            var set = await connection.ExecuteAsync(RawCommands.PropertySet4(2, CcOffset, CcEnable), default, default, cancellationToken);
            Assert.True(set.Status.IsSuccess, $"Property Set CC: {set.Status}");
            for (var poll = 0; poll < 50; poll++)
            {
                var csts = await connection.ExecuteAsync(RawCommands.PropertyGet(3, CstsOffset, eightBytes: false), default, default, cancellationToken);
                Assert.True(csts.Status.IsSuccess, $"Property Get CSTS: {csts.Status}");
                Assert.True((csts.Dw0 & 2) == 0, "CSTS.CFS: controller fatal status");
                if ((csts.Dw0 & 1) != 0)
                {
                    return connection;
                }

                await Task.Delay(100, cancellationToken);
            }

            Assert.Fail("CSTS.RDY did not become 1 within 5 s.");
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    private static async Task<byte[]> IdentifyAsync(RawConnection connection, byte cns, uint nsid, CancellationToken cancellationToken)
    {
        var data = new byte[4096];
        var cqe = await connection.ExecuteAsync(RawCommands.Identify(4, cns, nsid), default, data, cancellationToken);
        Assert.True(cqe.Status.IsSuccess, $"Identify CNS {cns} NSID {nsid}: {cqe.Status}");
        return data;
    }

    private static string Ascii(ReadOnlySpan<byte> field) => Encoding.ASCII.GetString(field).TrimEnd(' ');

    private static ulong Nsze(byte[] ns) => BinaryPrimitives.ReadUInt64LittleEndian(ns);

    /// <summary>2^LBADS of the format FLBAS selects (bits 0-3, bits 5-6 the upper index bits): LBAF at byte 128 + 4n, LBADS its byte 2.</summary>
    private static int LbaSize(byte[] ns)
    {
        var index = (ns[26] & 0xF) | ((ns[26] >> 5 & 0x3) << 4);
        return 1 << ns[128 + (4 * index) + 2];
    }
}
