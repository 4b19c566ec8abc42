using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Spec;

public class LayoutTests
{
    // FLBAS: index bits 0-3 in bits 0-3, index bits 4-5 in bits 5-6, bit 4 metadata at the end of the LBA.
    [Theory]
    [InlineData(0, false, 0x00)]
    [InlineData(15, false, 0x0F)]
    [InlineData(16, false, 0x20)]
    [InlineData(63, true, 0x7F)]
    [InlineData(1, true, 0x11)]
    public void Formatted_lba_size(int index, bool metadataAtEnd, byte flbas)
    {
        Assert.Equal(flbas, IdentifyNamespaceLayout.FormattedLbaSize(index, metadataAtEnd));
        Assert.Equal(index, IdentifyNamespaceLayout.FormatIndex(flbas));
    }

    [Property(MaxTest = 300)]
    public Property Format_index_survives_any_metadata_bit() => Prop.ForAll(
        Gen.Choose(0, 63).ToArbitrary(), Gen.Elements(true, false).ToArbitrary(),
        (index, metadata) => IdentifyNamespaceLayout.FormatIndex(IdentifyNamespaceLayout.FormattedLbaSize(index, metadata)) == index);

    [Fact]
    public void Lba_format_fields()
    {
        var lbaf = LbaFormatLayout.Create(12, metadataSize: 8, relativePerformance: 2);
        Assert.Equal(0x020C0008u, lbaf);
        Assert.Equal(8, LbaFormatLayout.MetadataSize(lbaf));
        Assert.Equal(12, LbaFormatLayout.DataSizeShift(lbaf));
        Assert.Equal(2, LbaFormatLayout.RelativePerformance(lbaf));
        Assert.Equal(128 + (4 * 63), IdentifyNamespaceLayout.LbaFormat(63));
        Assert.Throws<ArgumentOutOfRangeException>(() => IdentifyNamespaceLayout.LbaFormat(64));
    }

    [Fact]
    public void Descriptor_lengths_by_type()
    {
        Assert.Equal(8, NamespaceDescriptorLayout.LengthOf(1));
        Assert.Equal(16, NamespaceDescriptorLayout.LengthOf(2));
        Assert.Equal(16, NamespaceDescriptorLayout.LengthOf(3));
        Assert.Equal(1, NamespaceDescriptorLayout.LengthOf(4));
        Assert.Equal(0, NamespaceDescriptorLayout.LengthOf(5));
        Assert.Equal(1024, NamespaceListLayout.MaxEntries);
    }

    // nvmet's IOCCSZ 0x404: a 64-byte SQE and 16 KiB of in-capsule data, in 16-byte units.
    [Fact]
    public void Capsule_sizes()
    {
        Assert.Equal(16384, IdentifyControllerLayout.InCapsuleDataSize(0x404));
        Assert.Equal(0x404u, IdentifyControllerLayout.CommandCapsuleSize(16384));
        Assert.Equal(5u, IdentifyControllerLayout.CommandCapsuleSize(1)); // rounded up to whole units
        Assert.Equal(0, IdentifyControllerLayout.InCapsuleDataSize(3));
        Assert.Equal(0x66, IdentifyControllerLayout.QueueEntrySizes(ControllerConfiguration.SqeSizeLog2, ControllerConfiguration.SqeSizeLog2));
        Assert.Equal(0x44, IdentifyControllerLayout.QueueEntrySizes(ControllerConfiguration.CqeSizeLog2, ControllerConfiguration.CqeSizeLog2));
    }

    [Theory]
    [InlineData(0UL, 0UL)]
    [InlineData(1UL, 1UL)]
    [InlineData(1000UL, 1UL)]
    [InlineData(1001UL, 2UL)]
    [InlineData(8UL, 1UL)]
    public void Smart_data_units_are_thousands_of_512_byte_blocks_rounded_up(ulong blocks, ulong units) =>
        Assert.Equal(units, SmartLogLayout.DataUnits(blocks));

    [Fact]
    public void Smart_temperature_sensors()
    {
        Assert.Equal(200, SmartLogLayout.TemperatureSensor(0));
        Assert.Equal(214, SmartLogLayout.TemperatureSensor(7));
        Assert.Throws<ArgumentOutOfRangeException>(() => SmartLogLayout.TemperatureSensor(8));
    }

    [Fact]
    public void Command_effects_entries()
    {
        Assert.Equal(6 * 4, CommandEffectsLayout.AdminEntry(0x06));
        Assert.Equal(1024 + (2 * 4), CommandEffectsLayout.IoEntry(0x02));
        Assert.Equal(1024 + (255 * 4), CommandEffectsLayout.IoEntry(0xFF));
        Assert.True(CommandEffectsLayout.IoEntry(0xFF) + CommandEffectsLayout.EntrySize <= CommandEffectsLayout.Size);
    }

    [Fact]
    public void Discovery_entries_follow_the_header()
    {
        Assert.Equal(1024, DiscoveryLogHeaderLayout.Entry(0));
        Assert.Equal(3072, DiscoveryLogHeaderLayout.Entry(2));
        Assert.Equal(DiscoveryLogEntryLayout.Tsas, DiscoveryLogEntryLayout.Sectype);
        Assert.Equal(0xFFFF, DiscoveryLogEntryLayout.DynamicController);
    }

    // Every field of a layout lies inside its structure, and no two start at the same byte.
    [Theory]
    [InlineData(typeof(IdentifyControllerLayout))]
    [InlineData(typeof(IdentifyNamespaceLayout))]
    [InlineData(typeof(ErrorLogEntryLayout))]
    [InlineData(typeof(SmartLogLayout))]
    [InlineData(typeof(DiscoveryLogHeaderLayout))]
    [InlineData(typeof(DiscoveryLogEntryLayout))]
    public void Offsets_lie_inside_and_do_not_collide(Type layout)
    {
        var fields = layout.GetFields()
            .Where(f => f.IsLiteral && f.FieldType == typeof(int) && char.IsUpper(f.Name[0]) && !IsSizeOrLength(f.Name))
            .Where(f => f.Name != nameof(DiscoveryLogEntryLayout.Sectype))
            .Select(f => (f.Name, Offset: (int)f.GetRawConstantValue()!))
            .ToList();
        var size = (int)layout.GetField("Size")!.GetRawConstantValue()!;
        Assert.NotEmpty(fields);
        Assert.All(fields, f => Assert.InRange(f.Offset, 0, size - 1));
        Assert.Empty(fields.GroupBy(f => f.Offset).Where(g => g.Count() > 1).Select(g => string.Join(", ", g.Select(f => f.Name))));
    }

    private static bool IsSizeOrLength(string name) =>
        name is "Size" or "DefinedLength" or "TemperatureSensorCount" or "TemperatureSize" or "CounterSize" or "DataUnitBlockSize" or "DataUnitBlocks" or "CapsuleSizeUnit" or "PowerStateDescriptorLength" or "FrmwSlotCountShift"
        || name.EndsWith("Length", StringComparison.Ordinal);
}
