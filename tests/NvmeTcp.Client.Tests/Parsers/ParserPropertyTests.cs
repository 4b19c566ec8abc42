using FsCheck;
using FsCheck.Fluent;
using FsCheck.Xunit;

namespace NvmeTcp.Client.Tests.Parsers;

// Every parser reads untrusted bytes from the network: whatever they hold, Parse returns a value
// (or, for the descriptor list, throws only the documented InvalidDataException).
public class ParserPropertyTests
{
    // Half the bytes small, so lengths, types and counts often land on interesting values.
    private static readonly Gen<byte> AnyByte =
        Gen.OneOf(Gen.Choose(0, 255), Gen.Choose(0, 20)).Select(b => (byte)b);

    private static Arbitrary<byte[]> Bytes(int length) => Gen.ArrayOf(AnyByte, length).ToArbitrary();

    private static Arbitrary<byte[]> BytesUpTo(int maxLength) =>
        Gen.Choose(0, maxLength).SelectMany(n => Gen.ArrayOf(AnyByte, n)).ToArbitrary();

    [Property(MaxTest = 200)]
    public Property Identify_controller_never_throws() => Prop.ForAll(Bytes(4096), data =>
    {
        var id = NvmeIdentifyController.Parse(data);
        _ = id.Version;
        _ = id.InCapsuleDataSize >= 0;
        _ = id.MaxDataTransferBytes(4096);
        _ = id.IsDiscoveryController;
    });

    [Property(MaxTest = 200)]
    public Property Identify_namespace_never_throws() => Prop.ForAll(Bytes(4096), data =>
    {
        var ns = NvmeIdentifyNamespace.Parse(data);
        _ = ns.BlockSize;
        _ = ns.CurrentLbaFormat.ToString();
        return ns.LbaFormats.Count >= 1 && ns.LbaFormats.Count <= 64 && ns.BlockSize >= 0;
    });

    [Property(MaxTest = 500)]
    public Property Descriptor_list_throws_only_invalid_data() => Prop.ForAll(BytesUpTo(300), data =>
    {
        try
        {
            foreach (var d in NvmeNamespaceDescriptor.ParseList(data))
            {
                _ = d.ToString();
                _ = d.Uuid;
                _ = d.Csi;
            }
        }
        catch (InvalidDataException)
        {
        }
    });

    [Property(MaxTest = 200)]
    public Property Active_namespace_list_never_throws() => Prop.ForAll(BytesUpTo(4200), data =>
        NvmeNamespaceList.Parse(data).All(nsid => nsid != 0));

    [Property(MaxTest = 200)]
    public Property Discovery_log_never_throws() => Prop.ForAll(
        Gen.Choose(1024, 4096).SelectMany(n => Gen.ArrayOf(AnyByte, n)).ToArbitrary(),
        data =>
        {
            var log = NvmeDiscoveryLog.Parse(data);
            foreach (var e in log.Entries)
            {
                _ = e.TransportType.ToNvmeCliString() + e.AddressFamily.ToNvmeCliString() + e.SubsystemType.ToNvmeCliString();
                _ = e.TreqToNvmeCliString();
                _ = e.TcpSecurityType?.ToNvmeCliString();
            }

            return (ulong)log.Entries.Count <= log.Header.Numrec && log.Entries.Count <= (data.Length - 1024) / 1024;
        });

    [Property(MaxTest = 200)]
    public Property Discovery_entry_never_throws() => Prop.ForAll(Bytes(1024), data =>
    {
        var e = NvmeDiscoveryLogEntry.Parse(data);
        _ = e.SubsystemNqn + e.TransportAddress + e.TransportServiceId;
    });

    [Property(MaxTest = 200)]
    public Property Error_log_never_throws() => Prop.ForAll(BytesUpTo(700), data =>
    {
        var list = NvmeErrorLogEntry.ParseList(data);
        foreach (var e in list)
        {
            _ = e.Status.ToString();
        }

        return list.Count == data.Length / 64;
    });

    [Property(MaxTest = 200)]
    public Property Smart_log_never_throws() => Prop.ForAll(Bytes(512), data =>
    {
        var smart = NvmeSmartLog.Parse(data);
        _ = smart.CompositeTemperatureCelsius;
        return smart.TemperatureSensors.Count == 8;
    });
}
