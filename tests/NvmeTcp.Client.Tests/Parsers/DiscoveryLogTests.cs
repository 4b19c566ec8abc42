using System.Buffers.Binary;
using System.Text;

namespace NvmeTcp.Client.Tests.Parsers;

// The captures hold no discovery session, so these pages are built here from the layout in
// NVMe over Fabrics 1.1 (Figures 38 and 39) and Linux's struct nvmf_disc_rsp_page_entry.
public class DiscoveryLogTests
{
    private const string Nqn = "nqn.2026-11.dev.nvmetcp:test";

    [Fact]
    public void Page_with_a_current_discovery_entry_and_an_nvm_subsystem()
    {
        var page = new byte[1024 * 3];
        BinaryPrimitives.WriteUInt64LittleEndian(page, 7);        // GENCTR
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(8), 2); // NUMREC
        WriteEntry(page.AsSpan(1024), trtype: 3, adrfam: 1, subtype: 3, treq: 0x02, portid: 1, cntlid: 0xFFFF, asqsz: 32,
            trsvcid: "8009", subnqn: NvmeIdentifyController.DiscoveryNqn, traddr: "192.168.122.10", sectype: 0);
        WriteEntry(page.AsSpan(2048), trtype: 3, adrfam: 2, subtype: 2, treq: 0x06, portid: 2, cntlid: 0xFFFF, asqsz: 128,
            trsvcid: "4420", subnqn: Nqn, traddr: "fd00::10", sectype: 2);

        var log = NvmeDiscoveryLog.Parse(page);

        Assert.Equal(7ul, log.Header.Genctr);
        Assert.Equal(2ul, log.Header.Numrec);
        Assert.Equal(0, log.Header.Recfmt);
        Assert.True(log.IsComplete);
        Assert.Equal(2, log.Entries.Count);

        var current = log.Entries[0];
        Assert.Equal(NvmeTransportType.Tcp, current.TransportType);
        Assert.Equal("tcp", current.TransportType.ToNvmeCliString());
        Assert.Equal("ipv4", current.AddressFamily.ToNvmeCliString());
        Assert.Equal("current discovery subsystem", current.SubsystemType.ToNvmeCliString());
        Assert.Equal(NvmeSecureChannelRequirement.NotRequired, current.SecureChannel);
        Assert.False(current.SqFlowControlDisableSupported);
        Assert.Equal("not required", current.TreqToNvmeCliString());
        Assert.Equal(1, current.Portid);
        Assert.Equal(0xFFFF, current.Cntlid);
        Assert.Equal(32, current.Asqsz);
        Assert.Equal("8009", current.TransportServiceId);
        Assert.Equal(NvmeIdentifyController.DiscoveryNqn, current.SubsystemNqn);
        Assert.Equal("192.168.122.10", current.TransportAddress);
        Assert.Equal(NvmeTcpSecurityType.None, current.TcpSecurityType);
        Assert.Equal(256, current.Tsas.Length);

        var nvm = log.Entries[1];
        Assert.Equal(NvmeAddressFamily.IPv6, nvm.AddressFamily);
        Assert.Equal("nvme subsystem", nvm.SubsystemType.ToNvmeCliString());
        Assert.Equal("not required, sq flow control disable supported", nvm.TreqToNvmeCliString());
        Assert.Equal("4420", nvm.TransportServiceId);
        Assert.Equal(Nqn, nvm.SubsystemNqn);
        Assert.Equal("fd00::10", nvm.TransportAddress);
        Assert.Equal(NvmeTcpSecurityType.Tls13, nvm.TcpSecurityType);
        Assert.Equal("tls13", nvm.TcpSecurityType!.Value.ToNvmeCliString());
    }

    [Fact]
    public void Fewer_entries_present_than_numrec()
    {
        var page = new byte[1024 + 1024 + 1000];
        BinaryPrimitives.WriteUInt64LittleEndian(page.AsSpan(8), 5);
        var log = NvmeDiscoveryLog.Parse(page);

        Assert.Single(log.Entries);
        Assert.False(log.IsComplete);
        Assert.Equal(1024 + (5 * 1024), NvmeDiscoveryLog.RequiredLength(5));
        Assert.Equal(long.MaxValue, NvmeDiscoveryLog.RequiredLength(ulong.MaxValue));
    }

    [Fact]
    public void Header_alone_and_short_inputs()
    {
        var header = new byte[1024];
        BinaryPrimitives.WriteUInt64LittleEndian(header.AsSpan(8), ulong.MaxValue);
        Assert.Empty(NvmeDiscoveryLog.Parse(header).Entries);
        Assert.Equal(ulong.MaxValue, NvmeDiscoveryLogHeader.Parse(header.AsSpan(0, 24)).Numrec);

        Assert.Throws<ArgumentException>(() => NvmeDiscoveryLog.Parse(new byte[1023]));
        Assert.Throws<ArgumentException>(() => NvmeDiscoveryLogHeader.Parse(new byte[17]));
        Assert.Throws<ArgumentException>(() => NvmeDiscoveryLogEntry.Parse(new byte[1023]));
    }

    [Fact]
    public void Non_tcp_entry_has_no_sectype_and_names_match_nvme_cli()
    {
        var entry = new byte[1024];
        WriteEntry(entry, trtype: 1, adrfam: 3, subtype: 1, treq: 0x05, portid: 0, cntlid: 0, asqsz: 0,
            trsvcid: "4420", subnqn: "x", traddr: "10.0.0.1", sectype: 1);
        var e = NvmeDiscoveryLogEntry.Parse(entry);

        Assert.Null(e.TcpSecurityType);
        Assert.Equal("rdma", e.TransportType.ToNvmeCliString());
        Assert.Equal("infiniband", e.AddressFamily.ToNvmeCliString());
        Assert.Equal("discovery subsystem referral", e.SubsystemType.ToNvmeCliString());
        Assert.Equal("required, sq flow control disable supported", e.TreqToNvmeCliString());
    }

    [Theory]
    [InlineData(NvmeTransportType.FibreChannel, "fc")]
    [InlineData(NvmeTransportType.Loop, "loop")]
    [InlineData((NvmeTransportType)0, "unrecognized")]
    [InlineData((NvmeTransportType)9, "unrecognized")]
    public void Transport_names(NvmeTransportType type, string expected) => Assert.Equal(expected, type.ToNvmeCliString());

    [Theory]
    [InlineData(NvmeAddressFamily.Pci, "pci")]
    [InlineData(NvmeAddressFamily.FibreChannel, "fibre-channel")]
    [InlineData(NvmeAddressFamily.Loop, "unrecognized")]
    public void Address_family_names(NvmeAddressFamily family, string expected) => Assert.Equal(expected, family.ToNvmeCliString());

    [Theory]
    [InlineData(0x00, "not specified")]
    [InlineData(0x01, "required")]
    [InlineData(0x04, "not specified, sq flow control disable supported")]
    [InlineData(0x03, "unrecognized")]
    [InlineData(0x08, "unrecognized")]
    public void Treq_names(byte treq, string expected)
    {
        var entry = new byte[1024];
        entry[3] = treq;
        Assert.Equal(expected, NvmeDiscoveryLogEntry.Parse(entry).TreqToNvmeCliString());
    }

    [Fact]
    public void Space_padded_address_fields_are_trimmed()
    {
        var entry = new byte[1024];
        entry.AsSpan(32, 32).Fill((byte)' ');
        "4420"u8.CopyTo(entry.AsSpan(32));
        entry.AsSpan(512, 256).Fill((byte)' ');
        "10.0.0.2"u8.CopyTo(entry.AsSpan(512));
        var e = NvmeDiscoveryLogEntry.Parse(entry);

        Assert.Equal("4420", e.TransportServiceId);
        Assert.Equal("10.0.0.2", e.TransportAddress);
    }

    private static void WriteEntry(
        Span<byte> e, byte trtype, byte adrfam, byte subtype, byte treq, ushort portid, ushort cntlid, ushort asqsz,
        string trsvcid, string subnqn, string traddr, byte sectype)
    {
        e[0] = trtype;
        e[1] = adrfam;
        e[2] = subtype;
        e[3] = treq;
        BinaryPrimitives.WriteUInt16LittleEndian(e[4..], portid);
        BinaryPrimitives.WriteUInt16LittleEndian(e[6..], cntlid);
        BinaryPrimitives.WriteUInt16LittleEndian(e[8..], asqsz);
        Encoding.ASCII.GetBytes(trsvcid).CopyTo(e[32..]);
        Encoding.UTF8.GetBytes(subnqn).CopyTo(e[256..]);
        Encoding.ASCII.GetBytes(traddr).CopyTo(e[512..]);
        e[768] = sectype;
    }
}
