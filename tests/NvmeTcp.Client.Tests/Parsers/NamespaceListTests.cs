using System.Buffers.Binary;

namespace NvmeTcp.Client.Tests.Parsers;

public class NamespaceListTests
{
    // linux-6.1-initiator.pcap frame 192 (NSID 1) and frame 239 (NSID 2); tshark does not decode
    // CNS 03h, so the expected values are read off the hex dump: UUID (NIDT 3), NGUID (NIDT 2), CSI (NIDT 4) 0.
    [Theory]
    [InlineData("ns-desc-ns1-linux-6.1.bin", "5c0e4a52-0001-4000-8000-000000000001")]
    [InlineData("ns-desc-ns2-linux-6.1.bin", "5c0e4a52-0002-4000-8000-000000000002")]
    public void Linux_nvmet_descriptors(string file, string uuid)
    {
        var list = NvmeNamespaceDescriptor.ParseList(CapturedData.Read(file));

        Assert.Equal(3, list.Count);
        Assert.Equal(NvmeNamespaceIdentifierType.Uuid, list[0].Type);
        Assert.Equal(16, list[0].Length);
        Assert.Equal(Guid.Parse(uuid), list[0].Uuid);
        Assert.Equal(uuid, list[0].ToString());
        Assert.Null(list[0].Csi);

        Assert.Equal(NvmeNamespaceIdentifierType.Nguid, list[1].Type);
        Assert.Equal(uuid.Replace("-", string.Empty, StringComparison.Ordinal), list[1].ToString());
        Assert.Null(list[1].Uuid);

        Assert.Equal(NvmeNamespaceIdentifierType.Csi, list[2].Type);
        Assert.Equal((byte)0, list[2].Csi);
        Assert.Equal("0", list[2].ToString());
    }

    [Fact]
    public void Nguid_descriptor_equals_identify_namespace_nguid()
    {
        var list = NvmeNamespaceDescriptor.ParseList(CapturedData.Read("ns-desc-ns1-linux-6.1.bin"));
        var ns = NvmeIdentifyNamespace.Parse(CapturedData.Read("identify-ns1-linux-6.1.bin"));
        Assert.Equal(ns.Nguid.ToArray(), list.Single(d => d.Type == NvmeNamespaceIdentifierType.Nguid).Value.ToArray());
    }

    [Fact]
    public void Eui64_and_unknown_types_are_kept()
    {
        var data = new byte[64];
        data[0] = 1;
        data[1] = 8;
        data[4] = 0xAA;
        data[12] = 0x77; // unknown type with a 3-byte identifier
        data[13] = 3;
        var list = NvmeNamespaceDescriptor.ParseList(data);

        Assert.Equal(2, list.Count);
        Assert.Equal("aa00000000000000", list[0].ToString());
        Assert.Equal((NvmeNamespaceIdentifierType)0x77, list[1].Type);
        Assert.Equal(3, list[1].Length);
    }

    [Fact]
    public void Empty_list_and_list_ending_without_room_for_a_header()
    {
        Assert.Empty(NvmeNamespaceDescriptor.ParseList(new byte[4096]));
        Assert.Empty(NvmeNamespaceDescriptor.ParseList(ReadOnlySpan<byte>.Empty));

        var data = new byte[4 + 8 + 3];
        data[0] = 1;
        data[1] = 8;
        data[12] = 2; // a header cut short by the end of the buffer ends the list
        Assert.Single(NvmeNamespaceDescriptor.ParseList(data));
    }

    [Theory]
    [InlineData(1, 16)]
    [InlineData(2, 8)]
    [InlineData(3, 15)]
    [InlineData(4, 2)]
    public void Wrong_length_for_a_known_type_is_invalid_data(byte type, byte length)
    {
        var data = new byte[4096];
        data[0] = type;
        data[1] = length;
        var ex = Assert.Throws<InvalidDataException>(() => NvmeNamespaceDescriptor.ParseList(data));
        Assert.Contains($"NIDT {type}", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Descriptor_past_the_end_is_invalid_data()
    {
        var data = new byte[20];
        data[0] = 3;
        data[1] = 16;
        Assert.Single(NvmeNamespaceDescriptor.ParseList(data)); // exactly fills the buffer
        Assert.Throws<InvalidDataException>(() => NvmeNamespaceDescriptor.ParseList(data.AsSpan(0, 19)));

        data[0] = 0x99;
        data[1] = 255;
        Assert.Throws<InvalidDataException>(() => NvmeNamespaceDescriptor.ParseList(data));
    }

    // linux-6.1-initiator.pcap frame 180; tshark prints nsid[0]: 1, nsid[1]: 2.
    [Fact]
    public void Linux_nvmet_active_namespace_list()
    {
        Assert.Equal([1u, 2u], NvmeNamespaceList.Parse(CapturedData.Read("active-ns-list-linux-6.1.bin")));
    }

    [Fact]
    public void Active_list_stops_at_zero_at_1024_entries_and_at_the_end_of_data()
    {
        var data = new byte[8192];
        for (int i = 0; i < 2048; i++)
        {
            BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(4 * i), (uint)i + 1);
        }

        Assert.Equal(1024, NvmeNamespaceList.Parse(data).Count);
        Assert.Equal([1u, 2u], NvmeNamespaceList.Parse(data.AsSpan(0, 11)));
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(12), 0);
        Assert.Equal([1u, 2u, 3u], NvmeNamespaceList.Parse(data));
        Assert.Empty(NvmeNamespaceList.Parse(ReadOnlySpan<byte>.Empty));
    }
}
