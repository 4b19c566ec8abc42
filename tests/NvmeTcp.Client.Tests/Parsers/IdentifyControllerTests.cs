using System.Buffers.Binary;

namespace NvmeTcp.Client.Tests.Parsers;

public class IdentifyControllerTests
{
    // Expected values are what tshark's NVMe dissector prints for frame 63 of linux-6.1-initiator.pcap
    // (and frame 62 of linux-6.12-initiator-digests.pcap, which differs only in FR).
    [Theory]
    [InlineData("identify-ctrl-linux-6.1.bin", "6.1.0-56")]
    [InlineData("identify-ctrl-linux-6.12.bin", "6.12.117")]
    public void Linux_nvmet_identify_controller(string file, string firmware)
    {
        var id = NvmeIdentifyController.Parse(CapturedData.Read(file));

        Assert.Equal(0, id.Vid);
        Assert.Equal(0, id.Ssvid);
        Assert.Equal("0123456789abcdef", id.SerialNumber);
        Assert.Equal("nvmetvm", id.ModelNumber);
        Assert.Equal(firmware, id.FirmwareRevision);
        Assert.Equal(6, id.Rab);
        Assert.Equal(0u, id.Ieee);
        Assert.Equal(0x0B, id.Cmic);
        Assert.Equal(0, id.Mdts);
        Assert.Null(id.MaxDataTransferBytes(4096));
        Assert.Equal(1, id.Cntlid);
        Assert.Equal(0x00010300u, id.Ver);
        Assert.Equal(new Version(1, 3, 0), id.Version);
        Assert.Equal(0u, id.Rtd3r);
        Assert.Equal(0u, id.Rtd3e);
        Assert.Equal(0x900u, id.Oaes);
        Assert.Equal(0x41u, id.Ctratt);
        Assert.Equal(NvmeControllerType.Io, id.ControllerType);
        Assert.False(id.IsDiscoveryController);
        Assert.Equal(new byte[16], id.Fguid.ToArray());
        Assert.Equal(0, id.Crdt1);
        Assert.Equal(0, id.Crdt2);
        Assert.Equal(0, id.Crdt3);
        Assert.Equal(0, id.Oacs);
        Assert.Equal(3, id.Acl);
        Assert.Equal(3, id.Aerl);
        Assert.Equal(3, id.Frmw);
        Assert.Equal(7, id.Lpa);
        Assert.Equal(0x7F, id.Elpe);
        Assert.Equal(0, id.Npss);
        Assert.Equal(0, id.Avscc);
        Assert.Equal(0, id.Apsta);
        Assert.Equal(0, id.Wctemp);
        Assert.Equal(0, id.Cctemp);
        Assert.Equal(UInt128.Zero, id.Tnvmcap);
        Assert.Equal(10, id.Kas);
        Assert.Equal(10, id.Anatt);
        Assert.Equal(0x1F, id.Anacap);
        Assert.Equal(128u, id.Anagrpmax);
        Assert.Equal(128u, id.Nanagrpid);
        Assert.Equal(0x66, id.Sqes);
        Assert.Equal(0x44, id.Cqes);
        Assert.Equal(1024, id.Maxcmd);
        Assert.Equal(1024u, id.Nn);
        Assert.Equal(0x0C, id.Oncs);
        Assert.Equal(0, id.Fuses);
        Assert.Equal(0, id.Fna);
        Assert.Equal(1, id.Vwc);
        Assert.Equal(0, id.Awun);  // 0's based: tshark prints "1 logical block"
        Assert.Equal(0, id.Awupf);
        Assert.Equal(0, id.Nvscc);
        Assert.Equal(1, id.Nwpc);
        Assert.Equal(0, id.Acwu);
        Assert.Equal(0x00100001u, id.Sgls);
        Assert.Equal(1024u, id.Mnan);
        Assert.Equal("nqn.2026-11.dev.nvmetcp:test", id.SubsystemNqn);
        Assert.Equal(0x404u, id.Ioccsz);
        Assert.Equal(16448 - 64, id.InCapsuleDataSize);
        Assert.Equal(1u, id.Iorcsz);
        Assert.Equal(0, id.Icdoff);
        Assert.Equal(0, id.Fcatt);
        Assert.Equal(1, id.Msdbd);
        Assert.Equal(0, id.Ofcs);
        Assert.Equal(4096, id.Raw.Length);
    }

    [Fact]
    public void Raw_is_a_copy_of_the_first_4096_bytes()
    {
        var data = CapturedData.Read("identify-ctrl-linux-6.1.bin");
        var id = NvmeIdentifyController.Parse(data);
        data[4] = (byte)'X';

        Assert.Equal((byte)'0', id.Raw.Span[4]);
        Assert.Equal("0123456789abcdef", id.SerialNumber);
    }

    [Fact]
    public void Longer_input_is_accepted_and_shorter_is_refused()
    {
        Assert.Equal(4096, NvmeIdentifyController.Parse(new byte[5000]).Raw.Length);
        var ex = Assert.Throws<ArgumentException>(() => NvmeIdentifyController.Parse(new byte[4095]));
        Assert.Equal("data", ex.ParamName);
    }

    [Theory]
    [InlineData(0, 4096, null)]
    [InlineData(1, 4096, 8192L)]
    [InlineData(5, 4096, 131072L)]
    [InlineData(7, 8192, 1048576L)]
    [InlineData(60, 4096, long.MaxValue)]
    [InlineData(255, 4096, long.MaxValue)]
    public void Max_data_transfer_is_two_to_the_mdts_pages(byte mdts, int page, long? expected)
    {
        var data = new byte[4096];
        data[77] = mdts;
        Assert.Equal(expected, NvmeIdentifyController.Parse(data).MaxDataTransferBytes(page));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-4096)]
    [InlineData(3000)]
    public void Max_data_transfer_refuses_a_page_size_that_is_not_a_power_of_two(int page) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => NvmeIdentifyController.Parse(new byte[4096]).MaxDataTransferBytes(page));

    [Theory]
    [InlineData(0u, 0L)]
    [InlineData(1u, 0L)]
    [InlineData(4u, 0L)]
    [InlineData(5u, 16L)]
    [InlineData(uint.MaxValue, (uint.MaxValue * 16L) - 64)]
    public void In_capsule_data_size_is_never_negative(uint ioccsz, long expected)
    {
        var data = new byte[4096];
        BinaryPrimitives.WriteUInt32LittleEndian(data.AsSpan(1792), ioccsz);
        Assert.Equal(expected, NvmeIdentifyController.Parse(data).InCapsuleDataSize);
    }

    [Fact]
    public void Discovery_controller_by_type_or_by_well_known_nqn()
    {
        var data = new byte[4096];
        data[111] = 2;
        Assert.True(NvmeIdentifyController.Parse(data).IsDiscoveryController);

        data[111] = 0;
        Assert.False(NvmeIdentifyController.Parse(data).IsDiscoveryController);
        "nqn.2014-08.org.nvmexpress.discovery"u8.CopyTo(data.AsSpan(768));
        Assert.True(NvmeIdentifyController.Parse(data).IsDiscoveryController);

        data[111] = 1;
        Assert.False(NvmeIdentifyController.Parse(data).IsDiscoveryController);
    }

    [Fact]
    public void Strings_stop_at_nul_lose_trailing_spaces_and_survive_non_ascii()
    {
        var data = new byte[4096];
        "AB  "u8.CopyTo(data.AsSpan(4));
        data.AsSpan(8, 16).Fill((byte)' ');
        "M\0garbage"u8.CopyTo(data.AsSpan(24));
        data[64] = 0xFF;
        data[65] = (byte)'1';

        var id = NvmeIdentifyController.Parse(data);

        Assert.Equal("AB", id.SerialNumber);
        Assert.Equal("M", id.ModelNumber);
        Assert.Equal("?1", id.FirmwareRevision);
    }

    [Fact]
    public void Ieee_oui_reads_as_a_little_endian_24_bit_number()
    {
        var data = new byte[4096];
        data[73] = 0x1B;
        data[74] = 0x4D;
        data[75] = 0x00;
        Assert.Equal(0x004D1Bu, NvmeIdentifyController.Parse(data).Ieee);
    }
}
