using System.CommandLine;
using NvmeTcp.Protocol.Auth;
using System.Runtime.InteropServices;
using NvmeTcp.Target;
using Spectre.Console;

namespace NvmeTcp.Cli.Commands;

/// <summary>
/// <c>nvmetcp serve</c>: runs an in-process NVMe/TCP target until Ctrl+C or SIGTERM. With no option it serves
/// nqn.2026-11.dev.nvmetcp:default with a 1 GiB memory namespace on 127.0.0.1:4420, discovery included.
/// </summary>
internal static class ServeCommand
{
    private static readonly Option<string[]> Listen = new("--listen") { Description = "Endpoint to listen on (port 0 picks one), repeatable: each is a port, PORTIDs 1, 2, ... in order, all serving the subsystem.", DefaultValueFactory = _ => ["127.0.0.1:4420"], AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string[]> AnaGroups = new("--ana-group") { Description = "NSID=GROUP: the namespace's ANA group (default 1), repeatable; change states at run time on stdin with 'ana PORTID GROUP STATE'.", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string> Nqn = new("--nqn") { Description = "Subsystem NQN.", DefaultValueFactory = _ => ServeSettings.DefaultNqn };
    private static readonly Option<string[]> Namespaces = new("--namespace", "-n") { Description = "NSID:SIZE[:BLOCK[:memory|null]] or NSID:file:PATH[:BLOCK] (a file or block device: data kept, Flush = fsync), repeatable (e.g. 1:64MiB:512, 3:1TiB:4096:null, 2:file:/var/lib/disk.img:4096).", AllowMultipleArgumentsPerToken = false };
    private static readonly Option<string[]> AllowHosts = new("--allow-host") { Description = "Host NQN allowed to connect, repeatable (default: any host)." };
    private static readonly Option<string> HeaderDigest = new("--hdr-digest") { Description = "Header digest policy: as-requested or refuse.", DefaultValueFactory = _ => "as-requested" };
    private static readonly Option<string> DataDigest = new("--data-digest") { Description = "Data digest policy: as-requested or refuse.", DefaultValueFactory = _ => "as-requested" };
    private static readonly Option<string> MaxH2CData = new("--maxh2cdata") { Description = "MAXH2CDATA granted in ICResp.", DefaultValueFactory = _ => "128KiB" };
    private static readonly Option<byte> Mdts = new("--mdts") { Description = "MDTS: largest transfer is 2^MDTS * 4 KiB (0: no limit).", DefaultValueFactory = _ => 5 };
    private static readonly Option<int> MaxIoQueues = new("--max-io-queues") { Description = "I/O queues granted at most.", DefaultValueFactory = _ => 8 };
    private static readonly Option<int> MaxQueueSize = new("--max-queue-size") { Description = "I/O queue entries at most (CAP.MQES + 1).", DefaultValueFactory = _ => 128 };
    private static readonly Option<string> C2HChunk = new("--c2h-chunk") { Description = "Largest C2HData PDU (0: one PDU per transfer, up to 1 MiB each).", DefaultValueFactory = _ => "0" };
    private static readonly Option<string?> DhchapSecretOption = new("--dhchap-secret") { Description = "DH-HMAC-CHAP secret (DHHC-1:hh:<base64>:) every --allow-host must authenticate with (in-band, after Connect). Never printed." };
    private static readonly Option<string?> DhchapControllerSecretOption = new("--dhchap-ctrl-secret") { Description = "DH-HMAC-CHAP controller secret, for hosts that authenticate the controller too (bidirectional). Never printed." };
    private static readonly Option<string?> DhchapHash = new("--dhchap-hash") { Description = "The only hash the controller may choose: hmac(sha256), hmac(sha384) or hmac(sha512) (default: the first of those the host offers)." };
    private static readonly Option<string?> DhchapGroup = new("--dhchap-dhgroup") { Description = "The only DH group the controller may choose: null, ffdhe2048, ffdhe3072, ffdhe4096, ffdhe6144 or ffdhe8192 (default: null first)." };
    private static readonly Option<string?> TlsKeyOption = new("--tls-key") { Description = "Configured TLS PSK (NVMeTLSkey-1:hh:<base64>:, as `nvme gen-tls-key` prints) of every --allow-host: the ports serve TLS 1.3 with the PSK derived for each host and the subsystem (and the discovery subsystem). Never printed." };
    private static readonly Option<int?> TlsIdentity = new("--tls-identity") { Description = "The PSK identity version accepted, 0 or 1, as `nvme check-tls-key --insert --identity` inserts one (default: both)." };
    private static readonly Option<bool> Concat = new("--concat") { Description = "Allow secure channel concatenation for every --allow-host (nvme-cli's connect --concat): DH-HMAC-CHAP in the clear generates a TLS PSK the host reconnects with. Needs --dhchap-secret and a --dhchap-dhgroup other than null; the ports then serve TLS optionally (TREQ not required), as nvmet needs." };
    private static readonly Option<bool> TlsRequired = new("--tls-required") { Description = "Refuse plain connections (TREQ required, as nvmet's default with addr_tsas tls1.3); without it TLS is optional (TREQ not required)." };
    private static readonly Option<bool> NoDiscovery = new("--no-discovery") { Description = "Do not serve the discovery subsystem." };
    private static readonly Option<bool> ReceiveThread = new("--receive-thread") { Description = "Receive on a thread per plain-TCP connection that sleeps in the kernel and answers inline (NvmeTargetOptions.DedicatedReceiveThreads); TLS connections keep the default path." };

    public static Command Create()
    {
        var command = new Command("serve", "Run an in-process NVMe/TCP target until Ctrl+C or SIGTERM. Logs connections, host violations (FES/FEI), limits reached and errors on stderr; --verbose adds debug.");
        foreach (var option in new Option[] { Listen, Nqn, Namespaces, AnaGroups, AllowHosts, DhchapSecretOption, DhchapControllerSecretOption, DhchapHash, DhchapGroup, Concat, TlsKeyOption, TlsIdentity, TlsRequired, HeaderDigest, DataDigest, MaxH2CData, Mdts, MaxIoQueues, MaxQueueSize, C2HChunk, NoDiscovery, ReceiveThread })
        {
            command.Options.Add(option);
        }

        foreach (var option in ServeLimits.All)
        {
            command.Options.Add(option);
        }

        command.SetAction(async (parse, cancellationToken) =>
        {
            NvmeTargetOptions options;
            try
            {
                options = ToOptions(parse);
            }
            catch (FormatException e)
            {
                AnsiConsole.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"[red]error:[/] {e.Message}");
                return 1;
            }

            using var logging = ServeLogging.Create(parse, Console.Error);
            options.Logger = logging.CreateLogger("NvmeTcp.Target");
            return await RunAsync(options, AnsiConsole.Console, null, cancellationToken, Console.In).ConfigureAwait(false);
        });
        return command;
    }

    /// <summary>Builds the target options from a parse of this command.</summary>
    /// <exception cref="FormatException">An argument does not parse.</exception>
    public static NvmeTargetOptions ToOptions(ParseResult parse)
    {
        var listen = parse.GetValue(Listen) is { Length: > 0 } endPoints ? endPoints.Select(ServeSettings.ParseEndPoint).ToArray() : [ServeSettings.ParseEndPoint("127.0.0.1:4420")];
        var options = new NvmeTargetOptions
        {
            ListenEndPoint = listen[0],
            HeaderDigest = ServeSettings.ParseDigestPolicy(parse.GetValue(HeaderDigest)!),
            DataDigest = ServeSettings.ParseDigestPolicy(parse.GetValue(DataDigest)!),
            MaxH2CData = checked((int)ServeSettings.ParseSize(parse.GetValue(MaxH2CData)!)),
            C2HDataChunkSize = checked((int)ServeSettings.ParseSize(parse.GetValue(C2HChunk)!)),
            EnableDiscovery = !parse.GetValue(NoDiscovery),
            DedicatedReceiveThreads = parse.GetValue(ReceiveThread),
        };
        var subsystem = new NvmeSubsystemOptions(parse.GetValue(Nqn)!)
        {
            Mdts = parse.GetValue(Mdts),
            MaxIoQueues = parse.GetValue(MaxIoQueues),
            MaxQueueSize = parse.GetValue(MaxQueueSize),
        };
        var namespaces = parse.GetValue(Namespaces) is { Length: > 0 } given ? given : [ServeSettings.DefaultNamespace];
        foreach (var ns in namespaces)
        {
            subsystem.Namespaces.Add(ServeSettings.ParseNamespace(ns));
        }

        if (listen.Length > 1)
        {
            for (var i = 0; i < listen.Length; i++)
            {
                options.Ports.Add(new NvmeTargetPort((ushort)(i + 1), listen[i]));
            }
        }

        foreach (var (nsid, group) in (parse.GetValue(AnaGroups) ?? []).Select(ServeSettings.ParseAnaGroup))
        {
            var ns = subsystem.Namespaces.FirstOrDefault(n => n.Nsid == nsid) ?? throw new FormatException($"--ana-group: there is no namespace {nsid}.");
            ns.AnaGroupId = group;
        }

        foreach (var host in parse.GetValue(AllowHosts) ?? [])
        {
            subsystem.AllowedHosts.Add(host);
        }

        AddAuthentication(parse, subsystem);
        AddTls(parse, options, subsystem);

        options.Subsystems.Add(subsystem);
        ServeLimits.Apply(parse, options);
        return options;
    }

    // --dhchap-secret (and the rest) apply to every --allow-host, as one nvmet hosts/ entry each.
    private static void AddAuthentication(ParseResult parse, NvmeSubsystemOptions subsystem)
    {
        var text = parse.GetValue(DhchapSecretOption);
        var controllerText = parse.GetValue(DhchapControllerSecretOption);
        var concat = parse.GetValue(Concat);
        if (text is null)
        {
            if (controllerText is not null || parse.GetValue(DhchapHash) is not null || parse.GetValue(DhchapGroup) is not null || concat)
            {
                throw new FormatException("--dhchap-ctrl-secret, --dhchap-hash, --dhchap-dhgroup and --concat need --dhchap-secret.");
            }

            return;
        }

        if (subsystem.AllowedHosts.Count == 0)
        {
            throw new FormatException("--dhchap-secret needs --allow-host: the secret belongs to the hosts named there.");
        }

        var secret = ParseSecret(text, "--dhchap-secret");
        var controllerSecret = controllerText is null ? null : ParseSecret(controllerText, "--dhchap-ctrl-secret");
        var hash = parse.GetValue(DhchapHash) is { } hashName
            ? Enum.GetValues<DhchapHashFunction>().Where(h => DhchapIdentifiers.Name(h) == hashName || DhchapIdentifiers.Name(h) == $"hmac({hashName})").Select(h => (DhchapHashFunction?)h).FirstOrDefault()
                ?? throw new FormatException($"--dhchap-hash: '{hashName}' is not hmac(sha256), hmac(sha384) or hmac(sha512).")
            : (DhchapHashFunction?)null;
        var group = parse.GetValue(DhchapGroup) is { } groupName
            ? Enum.GetValues<DhchapDhGroup>().Where(g => DhchapIdentifiers.Name(g) == groupName).Select(g => (DhchapDhGroup?)g).FirstOrDefault()
                ?? throw new FormatException($"--dhchap-dhgroup: '{groupName}' is not null or ffdhe2048 to ffdhe8192.")
            : (DhchapDhGroup?)null;
        if (concat && group is null or DhchapDhGroup.Null)
        {
            throw new FormatException("--concat needs --dhchap-dhgroup other than null: the TLS PSK is generated from the DH exchange (nvmet refuses the null group too).");
        }

        foreach (var host in subsystem.AllowedHosts)
        {
            var auth = new NvmeHostAuthentication(host, secret) { ControllerSecret = controllerSecret, Concatenation = concat };
            if (hash is { } h)
            {
                auth.Hashes.Clear();
                auth.Hashes.Add(h);
            }

            if (group is { } g)
            {
                auth.Groups.Clear();
                auth.Groups.Add(g);
            }

            subsystem.HostAuthentication.Add(auth);
        }
    }

    // --tls-key applies to every --allow-host, as nvme check-tls-key --insert once per host; every port serves TLS.
    private static void AddTls(ParseResult parse, NvmeTargetOptions options, NvmeSubsystemOptions subsystem)
    {
        var concat = parse.GetValue(Concat);
        if (concat && parse.GetValue(TlsRequired))
        {
            throw new FormatException("--concat and --tls-required exclude each other: concatenation's exchange runs in the clear before the TLS reconnect.");
        }

        if (parse.GetValue(TlsKeyOption) is not { } text)
        {
            if (parse.GetValue(TlsIdentity) is not null || parse.GetValue(TlsRequired))
            {
                throw new FormatException("--tls-identity and --tls-required need --tls-key.");
            }

            if (concat)
            {
                SetPortTls(options, NvmeTargetTls.Optional);
            }

            return;
        }

        if (subsystem.AllowedHosts.Count == 0)
        {
            throw new FormatException("--tls-key needs --allow-host: the TLS PSK is derived for the hosts named there.");
        }

        if (!NvmeTcp.Protocol.Tls.NvmeTlsKey.TryParse(text, out var key, out var error))
        {
            throw new FormatException($"--tls-key: {error}");
        }

        var version = parse.GetValue(TlsIdentity);
        if (version is not (null or 0 or 1))
        {
            throw new FormatException("--tls-identity: the PSK identity version is 0 or 1.");
        }

        foreach (var host in subsystem.AllowedHosts)
        {
            subsystem.TlsKeys.Add(new NvmeHostTlsKey(host, key) { IdentityVersion = version });
        }

        SetPortTls(options, parse.GetValue(TlsRequired) ? NvmeTargetTls.Required : NvmeTargetTls.Optional);
    }

    private static void SetPortTls(NvmeTargetOptions options, NvmeTargetTls tls)
    {
        options.Tls = tls;
        for (var i = 0; i < options.Ports.Count; i++)
        {
            options.Ports[i] = new NvmeTargetPort(options.Ports[i].PortId, options.Ports[i].EndPoint) { Tls = tls };
        }
    }

    private static DhchapSecret ParseSecret(string text, string name) =>
        DhchapSecret.TryParse(text, out var secret, out var error) ? secret : throw new FormatException($"{name}: {error}");

    /// <summary>
    /// Starts the target, prints what it serves, and waits for <paramref name="cancellationToken"/>, SIGINT or SIGTERM.
    /// </summary>
    /// <param name="options">The target's options.</param>
    /// <param name="console">Where to print.</param>
    /// <param name="started">Called with the running target (tests use it to learn the port).</param>
    /// <param name="cancellationToken">Stops the target.</param>
    /// <param name="commands">Control commands, one a line (<see cref="ServeControl"/>), answered on <paramref name="console"/>; none when null.</param>
    /// <returns>The exit code: 0 after a clean stop, 1 when the target cannot start.</returns>
    public static async Task<int> RunAsync(NvmeTargetOptions options, IAnsiConsole console, Action<NvmeTcpTarget>? started, CancellationToken cancellationToken, TextReader? commands = null)
    {
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // we stop cleanly ourselves
            stop.Cancel();
        }

        using var sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        using var sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        NvmeTcpTarget target;
        try
        {
            target = await NvmeTcpTarget.StartAsync(options, stop.Token).ConfigureAwait(false);
        }
        catch (Exception e) when (e is System.Net.Sockets.SocketException or ArgumentException)
        {
            console.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"[red]error:[/] cannot start the target: {e.Message}");
            return 1;
        }

        await using (target.ConfigureAwait(false))
        {
            Print(console, target);
            started?.Invoke(target);
            // Not awaited: a read from the console's stdin cannot be cancelled; the loop ends with the input or the target.
            _ = commands is null ? Task.CompletedTask : ServeControl.RunAsync(commands, target, console, stop.Token);
            try
            {
                await Task.Delay(Timeout.Infinite, stop.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                // Ctrl+C, SIGTERM or the caller: stop.
            }

            console.MarkupLine("[grey]stopping...[/]");
        }

        return 0;
    }

    private static void Print(IAnsiConsole console, NvmeTcpTarget target)
    {
        // One port: the line scripts (the bench harness, the interop tests) read the port from, unchanged.
        var ports = target.Ports;
        foreach (var port in ports)
        {
            var id = ports.Count == 1 ? string.Empty : $" (port {port.PortId})";
            console.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"[green]NVMe/TCP target listening on[/] [bold]{port.EndPoint}[/]{id}");
            if (port.Tls != NvmeTargetTls.None)
            {
                console.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"TLS 1.3 with PSK: {(port.Tls == NvmeTargetTls.Required ? "required" : "optional")}");
            }
        }

        if (target.Options.EnableDiscovery)
        {
            console.MarkupLineInterpolated(System.Globalization.CultureInfo.InvariantCulture, $"discovery: {NvmeTcp.Client.NvmeIdentifyController.DiscoveryNqn}");
        }

        foreach (var subsystem in target.Options.Subsystems)
        {
            var table = new Table().Title(subsystem.Nqn).AddColumns("NSID", "Size", "Block", "Backing", "ANA group");
            foreach (var ns in subsystem.Namespaces)
            {
                table.AddRow(ns.Nsid.ToString(System.Globalization.CultureInfo.InvariantCulture), FormatSize(ns.SizeBytes), ns.BlockSize.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(ns.FilePath is { } path ? $"file {path}" : ns.Backing.ToString()), ns.AnaGroupId.ToString(System.Globalization.CultureInfo.InvariantCulture));
            }

            console.Write(table);
        }

        console.MarkupLine("[grey]Ctrl+C or SIGTERM stops the target. On stdin: ana PORTID GROUP STATE, port-remove PORTID, port-add PORTID.[/]");
    }

    private static string FormatSize(long bytes)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB", "PiB"];
        var unit = 0;
        var value = (double)bytes;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{value:0.##} {units[unit]}");
    }
}
