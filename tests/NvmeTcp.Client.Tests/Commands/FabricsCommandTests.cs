using System.Text;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Spec;
using NvmeTcp.Protocol;

namespace NvmeTcp.Client.Tests.Commands;

// Frame numbers refer to tests/NvmeTcp.Client.Tests/TestData/captures/linux-6.1-initiator.pcap (Linux 6.1 host,
// Linux nvmet), the copies arriving on port 4420.
public class FabricsCommandTests
{
    private const string HostNqn = "nqn.2014-08.org.nvmexpress:uuid:5c0e4a52-0000-4000-8000-0000000000aa";
    private const string SubsystemNqn = "nqn.2026-11.dev.nvmetcp:test";
    private static readonly Guid HostId = Guid.Parse("24710cb5-59a9-4887-8d33-2a5a65949688");

    [Fact]
    public void Admin_connect_matches_capture_frame_21() =>
        SqeAssert.Equal(
            "7f400000010000000000000000000000000000000000000000000000000000000004000000000001000000001f00000088130000000000000000000000000000",
            ConnectCommand.Create(queueId: 0, queueSize: 32, keepAliveTimeoutMs: 5000));

    [Theory]
    [InlineData(1, "7f400000010000000000000000000000000000000000000000000000000000000004000000000001000001007f00000000000000000000000000000000000000")] // frame 143
    [InlineData(2, "7f400000010000000000000000000000000000000000000000000000000000000004000000000001000002007f00000000000000000000000000000000000000")] // frame 148
    public void Io_connect_matches_capture(ushort queueId, string expected) =>
        SqeAssert.Equal(expected, ConnectCommand.Create(queueId, queueSize: 128));

    [Fact]
    public void Connect_writes_every_attribute_and_the_largest_queue() =>
        SqeAssert.Equal(
            "7f40000001000000000000000000000000000000000000000000000000000000000400000000000100000300ffff1c0000000000000000000000000000000000",
            ConnectCommand.Create(
                3,
                65536,
                ConnectAttributes.DisableSqFlowControl | ConnectAttributes.IoQueueDeletionSupported | ConnectAttributes.DiscoveryController));

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(65537)]
    public void Connect_rejects_a_queue_size_SQSIZE_cannot_hold(int queueSize) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => ConnectCommand.Create(1, queueSize));

    [Theory]
    [InlineData(ConnectData.DynamicControllerId, "24710cb559a948878d332a5a65949688ffff")] // frame 21, admin queue
    [InlineData((ushort)1, "24710cb559a948878d332a5a659496880100")] // frame 143, I/O queue with the admin's CNTLID
    public void Connect_data_matches_capture(ushort controllerId, string expectedHead)
    {
        var expected = new byte[ConnectData.Size];
        Convert.FromHexString(expectedHead).CopyTo(expected, 0);

        // The NQN bytes as captured; everything else in the 1024 bytes is zero.
        Convert.FromHexString("6e716e2e323032362d31312e6465762e6e766d657463703a74657374").CopyTo(expected, 256);
        Convert.FromHexString(
            "6e716e2e323031342d30382e6f72672e6e766d657870726573733a757569643a35633065346135322d303030302d343030302d383030302d303030303030303030306161")
            .CopyTo(expected, 512);

        var actual = new byte[ConnectData.Size];
        actual.AsSpan().Fill(0xCC);
        ConnectData.Write(actual, HostId, controllerId, SubsystemNqn, HostNqn);

        Assert.Equal(Convert.ToHexStringLower(expected), Convert.ToHexStringLower(actual));
    }

    [Fact]
    public void Connect_data_accepts_an_nqn_of_223_bytes_and_keeps_a_nul_after_it()
    {
        var nqn = "nqn.2014-08.org.example:" + new string('x', 223 - 24);
        var actual = new byte[ConnectData.Size];
        ConnectData.Write(actual, HostId, 1, nqn, nqn);
        Assert.Equal(nqn, Encoding.UTF8.GetString(actual, 256, 223));
        Assert.Equal(0, actual[256 + 223]);
    }

    [Theory]
    [InlineData(224, 'x')]
    [InlineData(112, 'é')] // 112 characters, 224 UTF-8 bytes
    [InlineData(0, 'x')]
    public void Connect_data_rejects_nqns_outside_1_to_223_utf8_bytes(int count, char c)
    {
        var nqn = new string(c, count);
        var buffer = new byte[ConnectData.Size];
        Assert.Throws<ArgumentException>("subsystemNqn", () => ConnectData.Write(buffer, HostId, 1, nqn, HostNqn));
        Assert.Throws<ArgumentException>("hostNqn", () => ConnectData.Write(buffer, HostId, 1, SubsystemNqn, nqn));
    }

    [Fact]
    public void Connect_data_rejects_a_short_destination() =>
        Assert.Throws<ArgumentException>("destination", () => ConnectData.Write(new byte[1023], HostId, 1, SubsystemNqn, HostNqn));

    [Theory]
    [InlineData(ControllerProperty.Cap, (ushort)0x0001, "7f40010004000000000000000000000000000000000000000000000000000000000000000000005a010000000000000000000000000000000000000000000000")] // frame 26
    [InlineData(ControllerProperty.Cc, (ushort)0x1001, "7f40011004000000000000000000000000000000000000000000000000000000000000000000005a000000001400000000000000000000000000000000000000")] // frame 35
    [InlineData(ControllerProperty.Csts, (ushort)0x3000, "7f40003004000000000000000000000000000000000000000000000000000000000000000000005a000000001c00000000000000000000000000000000000000")] // frame 49
    [InlineData(ControllerProperty.Vs, (ushort)0x3001, "7f40013004000000000000000000000000000000000000000000000000000000000000000000005a000000000800000000000000000000000000000000000000")] // frame 54
    public void Property_get_matches_capture(uint offset, ushort cid, string expected) =>
        SqeAssert.Equal(expected, PropertyCommands.Get(offset), cid);

    [Theory]
    [InlineData(0x00460060u, (ushort)0x1000, "7f40001000000000000000000000000000000000000000000000000000000000000000000000005a000000001400000060004600000000000000000000000000")] // frame 31, CC.EN = 0
    [InlineData(0x00460061u, (ushort)0x2000, "7f40002000000000000000000000000000000000000000000000000000000000000000000000005a000000001400000061004600000000000000000000000000")] // frame 44, CC.EN = 1
    public void Property_set_cc_matches_capture(uint value, ushort cid, string expected) =>
        SqeAssert.Equal(expected, PropertyCommands.Set(ControllerProperty.Cc, value), cid);

    [Fact]
    public void Property_set_of_eight_bytes() =>
        SqeAssert.Equal(
            "7f40000000000000000000000000000000000000000000000000000000000000000000000000005a0100000020000000efcdab89674523010000000000000000",
            PropertyCommands.Set(ControllerProperty.Nssr, 0x0123456789ABCDEF, PropertySize.EightBytes));

    [Fact]
    public void Property_set_of_four_bytes_rejects_a_wider_value() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => PropertyCommands.Set(ControllerProperty.Cc, 1UL << 32, PropertySize.FourBytes));

    [Fact]
    public void Property_widths() =>
        Assert.Equal(
            [PropertySize.EightBytes, PropertySize.FourBytes, PropertySize.FourBytes, PropertySize.FourBytes, PropertySize.FourBytes],
            new[] { ControllerProperty.Cap, ControllerProperty.Vs, ControllerProperty.Cc, ControllerProperty.Csts, ControllerProperty.Nssr }.Select(ControllerProperty.SizeOf));

    [Fact]
    public void Authentication_send_in_capsule() =>
        SqeAssert.Equal(
            "7f400000050000000000000000000000000000000000000000000000000000004000000000000001000101e94000000000000000000000000000000000000000",
            AuthenticationCommands.Send(64).InCapsule());

    [Fact]
    public void Authentication_send_by_r2t() =>
        SqeAssert.Equal(
            "7f40000005000000000000000000000000000000000000000000000000000000002000000000005a000101e90020000000000000000000000000000000000000",
            AuthenticationCommands.Send(0x2000));

    [Fact]
    public void Authentication_receive() =>
        SqeAssert.Equal(
            "7f40000006000000000000000000000000000000000000000000000000000000000400000000005a000101e90004000000000000000000000000000000000000",
            AuthenticationCommands.Receive(1024));

    [Fact]
    public void Authentication_rejects_zero_length()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => AuthenticationCommands.Send(0).InCapsule());
        Assert.Throws<ArgumentOutOfRangeException>(() => AuthenticationCommands.Receive(0));
    }

    [Fact]
    public void Disconnect() =>
        SqeAssert.Equal(
            "7f40000008000000000000000000000000000000000000000000000000000000000000000000005a000000000000000000000000000000000000000000000000",
            DisconnectCommand.Create());
}
