using NvmeTcp.Client.Transport;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Admin;
using NvmeTcp.Protocol.Fabrics;
using NvmeTcp.Protocol.Nvm;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Commands;

public class CommandNameTests
{
    // Names as NVMe Base 2.0 "Opcodes for Admin Commands" and NVM Command Set 1.0 "Opcodes for NVM Commands" spell them.
    [Theory]
    [InlineData(0x00, "Delete I/O Submission Queue")]
    [InlineData(0x01, "Create I/O Submission Queue")]
    [InlineData(0x02, "Get Log Page")]
    [InlineData(0x05, "Create I/O Completion Queue")]
    [InlineData(0x0C, "Asynchronous Event Request")]
    [InlineData(0x10, "Firmware Commit")]
    [InlineData(0x11, "Firmware Image Download")]
    [InlineData(0x14, "Device Self-test")]
    [InlineData(0x15, "Namespace Attachment")]
    [InlineData(0x18, "Keep Alive")]
    [InlineData(0x1A, "Directive Receive")]
    [InlineData(0x1D, "NVMe-MI Send")]
    [InlineData(0x80, "Format NVM")]
    [InlineData(0x82, "Security Receive")]
    [InlineData(0x84, "Sanitize")]
    [InlineData(0x86, "Get LBA Status")]
    [InlineData(0xC1, "Admin command 0xC1")]
    [InlineData(0x03, "Admin command 0x03")]
    public void Admin_opcodes(byte opcode, string name) => Assert.Equal(name, CommandName.Of(CommandKind.Admin, opcode));

    [Theory]
    [InlineData(0x00, "Flush")]
    [InlineData(0x02, "Read")]
    [InlineData(0x04, "Write Uncorrectable")]
    [InlineData(0x08, "Write Zeroes")]
    [InlineData(0x09, "Dataset Management")]
    [InlineData(0x0C, "Verify")]
    [InlineData(0x0D, "Reservation Register")]
    [InlineData(0x0E, "Reservation Report")]
    [InlineData(0x11, "Reservation Acquire")]
    [InlineData(0x15, "Reservation Release")]
    [InlineData(0x19, "Copy")]
    [InlineData(0x81, "I/O command 0x81")]
    public void Nvm_opcodes(byte opcode, string name) => Assert.Equal(name, CommandName.Of(CommandKind.Io, opcode));

    [Theory]
    [InlineData(0x00, "Property Set")]
    [InlineData(0x01, "Connect")]
    [InlineData(0x04, "Property Get")]
    [InlineData(0x05, "Authentication Send")]
    [InlineData(0x06, "Authentication Receive")]
    [InlineData(0x08, "Disconnect")]
    [InlineData(0x02, "Fabrics command 0x02")]
    public void Fabrics_command_types(byte fctype, string name) => Assert.Equal(name, CommandName.OfFabrics(fctype));

    [Fact]
    public void A_fabrics_command_by_opcode_alone_is_just_a_fabrics_command() =>
        Assert.Equal("Fabrics command", CommandName.Of(CommandKind.Fabrics, FabricsCommand.Opcode));

    // A member added to an enum without a name falls through to the hex form: caught here.
    [Fact]
    public void Every_enum_member_has_its_own_name()
    {
        AssertNamed(Enum.GetValues<AdminOpcode>().Select(o => CommandName.OfAdmin((byte)o)), "Admin command 0x");
        AssertNamed(Enum.GetValues<NvmOpcode>().Select(o => CommandName.OfNvm((byte)o)), "I/O command 0x");
        AssertNamed(Enum.GetValues<FabricsCommandType>().Select(t => CommandName.OfFabrics((byte)t)), "Fabrics command 0x");
    }

    [Fact]
    public void The_clients_names_are_the_protocols()
    {
        for (var opcode = 0; opcode <= byte.MaxValue; opcode++)
        {
            Assert.Equal(CommandName.OfAdmin((byte)opcode), CommandNames.Of(CommandKind.Admin, (byte)opcode));
            Assert.Equal(CommandName.OfNvm((byte)opcode), CommandNames.Of(CommandKind.Io, (byte)opcode));
            Assert.Equal(CommandName.OfFabrics((byte)opcode), CommandNames.OfFabrics((byte)opcode));
        }
    }

    private static void AssertNamed(IEnumerable<string> names, string unknownPrefix)
    {
        var list = names.ToList();
        Assert.All(list, n => Assert.DoesNotContain(unknownPrefix, n, StringComparison.Ordinal));
        Assert.Equal(list.Count, list.Distinct(StringComparer.Ordinal).Count());
    }
}
