using System.Buffers.Binary;
using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;
using NvmeTcp.Protocol.Spec;

namespace NvmeTcp.Client.Tests.Parsers;

/// <summary>The ANA log (LID 0Ch) parser against hand-built logs, truncated ones and random bytes.</summary>
public class AnaLogTests
{
    // Header, then group 1 (optimized, NSIDs 1 and 2), then group 7 (inaccessible, no NSIDs), as NVMe Base 2.0 lays it out.
    private static byte[] TwoGroups(bool groupsOnly = false)
    {
        var data = new byte[16 + 32 + (groupsOnly ? 0 : 8) + 32];
        BinaryPrimitives.WriteUInt64LittleEndian(data, 42);
        BinaryPrimitives.WriteUInt16LittleEndian(data.AsSpan(8), 2);
        var d = data.AsSpan(16);
        BinaryPrimitives.WriteUInt32LittleEndian(d, 1);
        BinaryPrimitives.WriteUInt32LittleEndian(d[4..], groupsOnly ? 0u : 2u);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], 5);
        d[16] = 0xF1; // reserved high bits set: the state is bits 0-3 only
        if (!groupsOnly)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(d[32..], 1);
            BinaryPrimitives.WriteUInt32LittleEndian(d[36..], 2);
        }

        d = d[(groupsOnly ? 32 : 40)..];
        BinaryPrimitives.WriteUInt32LittleEndian(d, 7);
        BinaryPrimitives.WriteUInt64LittleEndian(d[8..], 6);
        d[16] = 0x03;
        return data;
    }

    [Fact]
    public void Parses_the_header_and_each_group_with_its_namespaces()
    {
        var log = NvmeAnaLog.Parse(TwoGroups());
        Assert.Equal(42UL, log.ChangeCount);
        Assert.False(log.GroupsOnly);
        Assert.Equal(2, log.Groups.Count);
        Assert.Equal((1u, 5UL, AnaState.Optimized), (log.Groups[0].GroupId, log.Groups[0].ChangeCount, log.Groups[0].State));
        Assert.Equal([1u, 2u], log.Groups[0].NamespaceIds);
        Assert.Equal((7u, AnaState.Inaccessible), (log.Groups[1].GroupId, log.Groups[1].State));
        Assert.Empty(log.Groups[1].NamespaceIds);
        Assert.Equal(AnaState.Inaccessible, log.StateOf(7));
        Assert.Equal(AnaState.None, log.StateOf(3));
    }

    [Fact]
    public void Parses_a_log_read_with_rgo()
    {
        var log = NvmeAnaLog.Parse(TwoGroups(groupsOnly: true), groupsOnly: true);
        Assert.True(log.GroupsOnly);
        Assert.All(log.Groups, g => Assert.Empty(g.NamespaceIds));
        Assert.Equal(AnaState.Optimized, log.StateOf(1));
    }

    [Fact]
    public void A_log_read_with_rgo_that_lists_namespaces_is_refused() =>
        Assert.Throws<InvalidDataException>(() => NvmeAnaLog.Parse(TwoGroups(), groupsOnly: true));

    [Theory]
    [InlineData(15)]
    [InlineData(47)]
    [InlineData(55)]
    [InlineData(87)]
    public void A_truncated_log_is_refused_never_read_past_its_end(int length) =>
        Assert.Throws<InvalidDataException>(() => NvmeAnaLog.Parse(TwoGroups().AsSpan(0, length)));

    [Fact]
    public void A_namespace_count_larger_than_the_data_is_refused_without_allocating_it()
    {
        var data = TwoGroups();
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(16 + 4), uint.MaxValue);
        var error = Assert.Throws<InvalidDataException>(() => NvmeAnaLog.Parse(data));
        Assert.Contains("4294967295", error.Message, StringComparison.Ordinal);
    }

    [Property(MaxTest = 300)]
    public Property Random_bytes_parse_or_throw_only_invalid_data() => Prop.ForAll(
        Gen.Choose(0, 300).SelectMany(n => Gen.ArrayOf(Gen.OneOf(Gen.Choose(0, 255), Gen.Choose(0, 3)).Select(b => (byte)b), n)).ToArbitrary(),
        data =>
        {
            try
            {
                var log = NvmeAnaLog.Parse(data);
                return log.Groups.Sum(g => 32 + (4 * g.NamespaceIds.Count)) + 16 <= data.Length;
            }
            catch (InvalidDataException)
            {
                return true;
            }
        });
}
