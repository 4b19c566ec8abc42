using System.Buffers.Binary;

namespace NvmeTcp.Client.Tests.Parsers;

public class IdentifyNamespaceTests
{
    // tshark, linux-6.1-initiator.pcap frame 204: NSZE 131072, NLBAF 0, FLBAS 0, NMIC 1,
    // NGUID 5c0e4a52000140008000000000000001, EUI64 0, LBAF0 lbads 9 ms 0.
    [Fact]
    public void Linux_6_1_namespace_1_has_512_byte_blocks()
    {
        var ns = NvmeIdentifyNamespace.Parse(CapturedData.Read("identify-ns1-linux-6.1.bin"));

        Assert.Equal(131072ul, ns.Nsze);
        Assert.Equal(131072ul, ns.Ncap);
        Assert.Equal(131072ul, ns.Nuse);
        Assert.Equal(0x12, ns.Nsfeat);
        Assert.Equal(0, ns.Nlbaf);
        Assert.Equal(0, ns.Flbas);
        Assert.Equal(0, ns.Mc);
        Assert.Equal(0, ns.Dpc);
        Assert.Equal(0, ns.Dps);
        Assert.Equal(1, ns.Nmic);
        Assert.Equal(0, ns.Rescap);
        Assert.Equal(0, ns.Dlfeat);
        Assert.Equal(7, ns.Nawun);
        Assert.Equal(7, ns.Nawupf);
        Assert.Equal(7, ns.Nacwu);
        Assert.Equal(UInt128.Zero, ns.Nvmcap);
        Assert.Equal(7, ns.Npwg);
        Assert.Equal(7, ns.Npwa);
        Assert.Equal(0, ns.Npdg);
        Assert.Equal(0, ns.Npda);
        Assert.Equal(1u, ns.Anagrpid);
        Assert.Equal("5c0e4a52000140008000000000000001", Convert.ToHexStringLower(ns.Nguid.Span));
        Assert.Equal(new byte[8], ns.Eui64.ToArray());

        var format = Assert.Single(ns.LbaFormats);
        Assert.Equal(0, format.MetadataSize);
        Assert.Equal(9, format.Lbads);
        Assert.Equal(512, format.DataSize);
        Assert.Equal(0, format.RelativePerformance);
        Assert.Equal(0, ns.CurrentLbaFormatIndex);
        Assert.Equal(format, ns.CurrentLbaFormat);
        Assert.False(ns.MetadataAtEndOfLba);
        Assert.Equal(512, ns.BlockSize);
        Assert.Equal(64L * 1024 * 1024, (long)ns.Nsze * ns.BlockSize);
    }

    // tshark, linux-6.1-initiator.pcap frame 263: NSZE 16384, NSFEAT 0, NLBAF 0, FLBAS 0,
    // NGUID 5c0e4a52000240008000000000000002, LBAF0 lbads 12 ms 0.
    [Fact]
    public void Linux_6_1_namespace_2_has_4096_byte_blocks()
    {
        var ns = NvmeIdentifyNamespace.Parse(CapturedData.Read("identify-ns2-linux-6.1.bin"));

        Assert.Equal(16384ul, ns.Nsze);
        Assert.Equal(0, ns.Nsfeat);
        Assert.Equal(0, ns.Nawun);
        Assert.Equal(1, ns.Nmic);
        Assert.Equal(1u, ns.Anagrpid);
        Assert.Equal("5c0e4a52000240008000000000000002", Convert.ToHexStringLower(ns.Nguid.Span));
        Assert.Equal(12, Assert.Single(ns.LbaFormats).Lbads);
        Assert.Equal(4096, ns.BlockSize);
    }

    // linux-6.12-initiator-digests.pcap frame 246: the newer nvmet also fills NPDG and NPDA.
    [Fact]
    public void Linux_6_12_namespace_1_reports_deallocate_granularity()
    {
        var ns = NvmeIdentifyNamespace.Parse(CapturedData.Read("identify-ns1-linux-6.12.bin"));

        Assert.Equal(131072ul, ns.Nsze);
        Assert.Equal(7, ns.Npdg);
        Assert.Equal(7, ns.Npda);
        Assert.Equal(512, ns.BlockSize);
    }

    [Fact]
    public void Flbas_high_bits_extend_the_format_index()
    {
        var data = new byte[4096];
        data[25] = 63;                    // NLBAF: 64 formats
        data[26] = 0x10 | 0x40 | 0x03;    // metadata at end, high bits 10b, low bits 0011b -> index 35
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(128 + (4 * 35)), 0x020C_0008); // RP 2, LBADS 12, MS 8

        var ns = NvmeIdentifyNamespace.Parse(data);

        Assert.Equal(64, ns.LbaFormats.Count);
        Assert.Equal(35, ns.CurrentLbaFormatIndex);
        Assert.True(ns.MetadataAtEndOfLba);
        Assert.Equal(8, ns.CurrentLbaFormat.MetadataSize);
        Assert.Equal(4096, ns.BlockSize);
        Assert.Equal(2, ns.CurrentLbaFormat.RelativePerformance);
        Assert.Equal("ms:8 lbads:12 rp:2", ns.CurrentLbaFormat.ToString());
    }

    [Fact]
    public void Nlbaf_past_63_lists_64_formats_and_an_invalid_lbads_gives_size_0()
    {
        var data = new byte[4096];
        data[25] = 200;
        data[128 + 2] = 99;
        var ns = NvmeIdentifyNamespace.Parse(data);

        Assert.Equal(64, ns.LbaFormats.Count);
        Assert.Equal(0, ns.BlockSize);
        Assert.Equal(0, NvmeIdentifyNamespace.Parse(new byte[4096]).BlockSize);
    }

    [Fact]
    public void Nvmcap_is_a_128_bit_number()
    {
        var data = new byte[4096];
        data[48] = 1;
        data[63] = 0x80;
        Assert.Equal(new UInt128(0x8000_0000_0000_0000, 1), NvmeIdentifyNamespace.Parse(data).Nvmcap);
    }

    [Fact]
    public void Short_input_is_refused() =>
        Assert.Throws<ArgumentException>(() => NvmeIdentifyNamespace.Parse(new byte[384]));
}
