using NvmeTcp.Target;
using static NvmeTcp.Client.Loopback.Tests.LoopbackTarget;

namespace NvmeTcp.Client.Loopback.Tests;

/// <summary>Discovery beyond one controller: referrals, and a log that changes while it is read.</summary>
public sealed class DiscoveryTests
{
    [Fact]
    public async Task Referrals_are_followed_when_asked_and_listed_otherwise()
    {
        const string OtherNqn = "nqn.2026-11.dev.nvmetcp:other";
        await using var other = await NvmeTcpTarget.StartAsync(OtherTargetOptions(OtherNqn));
        await using var target = await StartAsync(o => o.DiscoveryReferrals.Add(other.EndPoint));
        var options = ClientOptions(target);

        var plain = await NvmeDiscovery.GetLogAsync(options).WaitAsync(Bound);
        var referral = Assert.Single(plain.Entries, e => e.SubsystemType == NvmeSubsystemType.DiscoveryReferral);
        Assert.Equal(other.EndPoint.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), referral.TransportServiceId);
        Assert.DoesNotContain(plain.Entries, e => e.SubsystemNqn == OtherNqn);

        var followed = await NvmeDiscovery.GetLogAsync(options, followReferrals: true).WaitAsync(Bound);
        var entry = Assert.Single(followed.Entries, e => e.SubsystemNqn == OtherNqn);
        await using var controller = await NvmeDiscovery.ConnectAsync(entry, options).WaitAsync(Bound);
        Assert.Equal(OtherNqn, controller.Identify.SubsystemNqn);
    }

    [Fact]
    public async Task Referral_loops_end()
    {
        await using var first = await StartAsync();
        await using var second = await NvmeTcpTarget.StartAsync(OtherTargetOptions("nqn.2026-11.dev.nvmetcp:second"));
        first.Options.DiscoveryReferrals.Add(second.EndPoint);
        second.Options.DiscoveryReferrals.Add(first.EndPoint);
        var log = await NvmeDiscovery.GetLogAsync(ClientOptions(first), followReferrals: true).WaitAsync(Bound);
        Assert.Contains(log.Entries, e => e.SubsystemNqn == "nqn.2026-11.dev.nvmetcp:second");
        Assert.Single(log.Entries, e => e.SubsystemNqn == Nqn);
    }

    [Fact]
    public async Task Generation_changes_are_seen()
    {
        await using var target = await StartAsync();
        var options = ClientOptions(target);
        var before = await NvmeDiscovery.GetLogAsync(options).WaitAsync(Bound);
        var added = new NvmeSubsystemOptions("nqn.2026-11.dev.nvmetcp:added");
        added.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
        target.AddSubsystem(added);
        var after = await NvmeDiscovery.GetLogAsync(options).WaitAsync(Bound);
        Assert.True(after.Header.Genctr > before.Header.Genctr);
        Assert.Contains(after.Entries, e => e.SubsystemNqn == added.Nqn);
    }

    private static NvmeTargetOptions OtherTargetOptions(string nqn)
    {
        var options = new NvmeTargetOptions { ListenEndPoint = new System.Net.IPEndPoint(System.Net.IPAddress.Loopback, 0) };
        var subsystem = new NvmeSubsystemOptions(nqn);
        subsystem.Namespaces.Add(new NvmeNamespaceOptions(1, 1 << 20, 512));
        options.Subsystems.Add(subsystem);
        return options;
    }
}
