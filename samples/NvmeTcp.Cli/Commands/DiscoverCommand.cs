using System.Globalization;
using System.CommandLine;
using System.Text;
using System.Text.Json;
using NvmeTcp.Client;

namespace NvmeTcp.Cli.Commands;

/// <summary><c>nvmetcp discover</c>: the discovery log, printed as <c>nvme discover</c> prints it.</summary>
internal static class DiscoverCommand
{
    public static Command Create()
    {
        var persistent = new Option<bool>("--persistent", "-p")
        {
            Description = "Stay connected (keep-alive), print the log, then each change (entries added and removed) as the target reports it, until Ctrl+C. With -o json, one object per line.",
        };
        return ControllerVerb.CreateDiscovery(
            "discover",
            "Read the discovery log page (70h) from the target's discovery controller and list the subsystems it offers.",
            [persistent],
            (context, cancellationToken) => context.GetValue(persistent) ? RunPersistentAsync(context, cancellationToken) : RunAsync(context, cancellationToken));
    }

    private static async Task<int> RunAsync(CliContext context, CancellationToken cancellationToken)
    {
        var log = await NvmeDiscovery.GetLogAsync(context.ClientOptions(), cancellationToken: cancellationToken).ConfigureAwait(false);
        await context.PrintAsync(writer => WriteRecords(writer, log.Header.Genctr, log.Entries), () => Text(log.Header.Genctr, log.Entries)).ConfigureAwait(false);
        return ExitCodes.Ok;
    }

    // nvme discover --persistent keeps the connection for the kernel's udev events; here the verb itself reports each
    // change. Ctrl+C is the normal end: exit 0 after the controller's orderly shutdown.
    private static async Task<int> RunPersistentAsync(CliContext context, CancellationToken cancellationToken)
    {
        var watcher = await NvmePersistentDiscovery.StartAsync(context.ClientOptions(), cancellationToken).ConfigureAwait(false);
        await using (watcher.ConfigureAwait(false))
        {
            // What has been printed, by entry: an event that raced the first print adds or removes nothing twice.
            var shown = new Dictionary<string, NvmeDiscoveryLogEntry>();
            var gate = new object();
            var changes = System.Threading.Channels.Channel.CreateUnbounded<(bool Error, string Text)>();
            watcher.Changed += (_, e) =>
            {
                lock (gate)
                {
                    var added = e.Added.Where(a => shown.TryAdd(Key(a), a)).ToList();
                    var removed = e.Removed.Where(r => shown.Remove(Key(r))).ToList();
                    if (added.Count > 0 || removed.Count > 0)
                    {
                        changes.Writer.TryWrite((false, context.Json ? JsonChange(e.Generation, added, removed) : TextChange(e.Generation, added, removed)));
                    }
                }
            };
            watcher.ReadFailed += (_, e) => changes.Writer.TryWrite((true, $"nvmetcp {context.Verb}: reading the changed log failed (will retry on the next notice): {e.Message}"));

            // GENCTR of the log as it is now, for the header (the watcher keeps only the entries).
            var header = await watcher.Controller.GetLogPageAsync(0x70, 16, retainAsyncEvent: true, cancellationToken: cancellationToken).ConfigureAwait(false);
            var genctr = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(header);
            lock (gate)
            {
                foreach (var entry in watcher.Entries)
                {
                    shown.TryAdd(Key(entry), entry);
                }

                var entries = shown.Values.ToList();
                context.Out.Write(context.Json ? Output.JsonText.BuildLine(w => { w.WriteStartObject(); WriteRecords(w, genctr, entries); w.WriteEndObject(); }) + Environment.NewLine : Text(genctr, entries));
            }

            await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
            try
            {
                await foreach (var (error, change) in changes.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
                {
                    if (error)
                    {
                        await context.Error.WriteLineAsync(change).ConfigureAwait(false);
                        continue;
                    }

                    await context.Out.WriteAsync(change).ConfigureAwait(false);
                    await context.Out.FlushAsync(cancellationToken).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                context.Note("stopped; disconnecting from the discovery controller");
            }
        }

        return ExitCodes.Ok;
    }

    private static string Key(NvmeDiscoveryLogEntry e) =>
        $"{(int)e.SubsystemType}|{e.SubsystemNqn.Trim()}|{(int)e.TransportType}|{e.TransportAddress.Trim()}|{e.TransportServiceId.Trim()}|{e.Portid}";

    private static string JsonChange(ulong genctr, List<NvmeDiscoveryLogEntry> added, List<NvmeDiscoveryLogEntry> removed) => Output.JsonText.BuildLine(writer =>
    {
        writer.WriteStartObject();
        writer.WriteNumber("genctr", genctr);
        writer.WriteStartArray("added");
        added.ForEach(e => WriteRecord(writer, e));
        writer.WriteEndArray();
        writer.WriteStartArray("removed");
        removed.ForEach(e => WriteRecord(writer, e));
        writer.WriteEndArray();
        writer.WriteEndObject();
    }) + Environment.NewLine;

    private static string TextChange(ulong genctr, List<NvmeDiscoveryLogEntry> added, List<NvmeDiscoveryLogEntry> removed)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Discovery log changed, Generation counter {genctr}: {added.Count} added, {removed.Count} removed");
        foreach (var (sign, entries) in new[] { ("added", added), ("removed", removed) })
        {
            foreach (var e in entries)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"{sign,-8} subtype: {e.SubsystemType.ToNvmeCliString()}, portid: {e.Portid}, traddr: {e.TransportAddress.Trim()}, trsvcid: {e.TransportServiceId.Trim()}, subnqn: {e.SubsystemNqn.Trim()}");
            }
        }

        return text.ToString();
    }

    private static void WriteRecords(Utf8JsonWriter writer, ulong genctr, IReadOnlyList<NvmeDiscoveryLogEntry> entries)
    {
        writer.WriteNumber("genctr", genctr);
        writer.WriteStartArray("records");
        foreach (var e in entries)
        {
            WriteRecord(writer, e);
        }

        writer.WriteEndArray();
    }

    private static void WriteRecord(Utf8JsonWriter writer, NvmeDiscoveryLogEntry e)
    {
        {
            writer.WriteStartObject();
            writer.WriteString("trtype", e.TransportType.ToNvmeCliString());
            writer.WriteString("adrfam", e.AddressFamily.ToNvmeCliString());
            writer.WriteString("subtype", e.SubsystemType.ToNvmeCliString());
            writer.WriteString("treq", e.TreqToNvmeCliString());
            writer.WriteNumber("portid", e.Portid);
            writer.WriteString("trsvcid", e.TransportServiceId.Trim());
            writer.WriteString("subnqn", e.SubsystemNqn.Trim());
            writer.WriteString("traddr", e.TransportAddress.Trim());
            writer.WriteString("eflags", EflagsToNvmeCliString(e.Eflags));
            if (e.TransportType == NvmeTransportType.Tcp)
            {
                writer.WriteString("sectype", (e.TcpSecurityType ?? NvmeTcpSecurityType.None).ToNvmeCliString());
            }

            writer.WriteEndObject();
        }
    }

    private static string Text(ulong genctr, IReadOnlyList<NvmeDiscoveryLogEntry> entries)
    {
        var text = new StringBuilder();
        text.AppendLine(CultureInfo.InvariantCulture, $"Discovery Log Number of Records {entries.Count}, Generation counter {genctr}");
        for (var i = 0; i < entries.Count; i++)
        {
            var e = entries[i];
            text.AppendLine(CultureInfo.InvariantCulture, $"=====Discovery Log Entry {i}======");
            text.AppendLine(CultureInfo.InvariantCulture, $"trtype:  {e.TransportType.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"adrfam:  {e.AddressFamily.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"subtype: {e.SubsystemType.ToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"treq:    {e.TreqToNvmeCliString()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"portid:  {e.Portid}");
            text.AppendLine(CultureInfo.InvariantCulture, $"trsvcid: {e.TransportServiceId.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"subnqn:  {e.SubsystemNqn.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"traddr:  {e.TransportAddress.Trim()}");
            text.AppendLine(CultureInfo.InvariantCulture, $"eflags:  {EflagsToNvmeCliString(e.Eflags)}");
            if (e.TransportType == NvmeTransportType.Tcp)
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"sectype: {(e.TcpSecurityType ?? NvmeTcpSecurityType.None).ToNvmeCliString()}");
            }
        }

        return text.ToString();
    }

    /// <summary>EFLAGS as libnvme's <c>nvmf_eflags_str</c> words it (bits 0-2: EPCSD, DUPRETINFO, NCC).</summary>
    public static string EflagsToNvmeCliString(ushort eflags)
    {
        if (eflags == 0)
        {
            return "none";
        }

        if (eflags > 7)
        {
            return "unrecognized";
        }

        var words = new List<string>(3);
        if ((eflags & 1) != 0)
        {
            words.Add("explicit discovery connections");
        }

        if ((eflags & 2) != 0)
        {
            words.Add("duplicate discovery information");
        }

        if ((eflags & 4) != 0)
        {
            words.Add("no cdc connectivity");
        }

        return string.Join(", ", words);
    }
}
