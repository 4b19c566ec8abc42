using System.Diagnostics;
using NvmeTcp.Client;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Auth;

namespace NvmeTcp.Interop.Tests;

/// <summary>
/// DH-HMAC-CHAP against Linux nvmet 6.12 and the newest kernel (NVME_TARGET_AUTH; Debian 12's 6.1 is built without it): vm/init.sh serves
/// nqn.2026-11.dev.nvmetcp:auth to 18 hosts, one per hash and DH group, all with the same host and controller keys,
/// so the host NQN decides what nvmet chooses. Every cell of hash x group x direction connects, moves data and
/// disconnects; wrong keys and unknown hosts fail typed and are not retried.
/// </summary>
public sealed class AuthenticationTests(NvmetVms vms) : InteropTest(vms)
{
    /// <summary>The kernels built with NVME_TARGET_AUTH (Debian 12's 6.1 is not).</summary>
    private static readonly string[] AuthKernels = ["6.12", "newest"];
    private const string AuthNqn = "nqn.2026-11.dev.nvmetcp:auth";

    // The keys vm/init.sh writes into configfs (test keys, generated for this suite only).
    internal static readonly DhchapSecret HostSecret = DhchapSecret.Parse("DHHC-1:01:8zaeW/k67fyC2f4pmQNOsloaoZsSnlf8tjEwGD0wsN4/Vcif:");
    private static readonly DhchapSecret ControllerSecret = DhchapSecret.Parse("DHHC-1:00:qoPcmLA5YZQ6IduYFAoIrdL6gMJ25M9IAi1QA06of+NVEBotvgy13b/vC3cuo8+ondUiNw==:");

    private static readonly string[] Groups = ["null", "ffdhe2048", "ffdhe3072", "ffdhe4096", "ffdhe6144", "ffdhe8192"];

    public static MatrixTheoryData<string, string> KernelsAndHashes => new(AuthKernels, ["sha256", "sha384", "sha512"]);

    public static TheoryData<string> AuthKernelData => new(AuthKernels);

    internal static string HostFor(string hash, string group) => $"nqn.2026-11.dev.nvmetcp:host-{hash}-{group}";

    /// <summary>Options for the auth subsystem of a 6.12 nvmet VM on <paramref name="port"/> (the port-removal test's own VM too).</summary>
    internal static NvmeTcpOptions Options(int port, string hash, string group, bool bidirectional) => new()
    {
        Address = "127.0.0.1",
        Port = port,
        SubsystemNqn = AuthNqn,
        HostNqn = HostFor(hash, group),
        IoQueueCount = 1,
        IoQueueSize = 32,
        DhchapSecret = HostSecret,
        DhchapControllerSecret = bidirectional ? ControllerSecret : null,
    };

    private async Task<NvmeTcpOptions> OptionsAsync(string kernel, string hostNqn, DhchapSecret? secret, DhchapSecret? controllerSecret)
    {
        var vm = await VmAsync(kernel);
        return new NvmeTcpOptions
        {
            Address = "127.0.0.1",
            Port = vm.Port,
            SubsystemNqn = AuthNqn,
            HostNqn = hostNqn,
            IoQueueCount = 1,
            IoQueueSize = 32,
            DhchapSecret = secret,
            DhchapControllerSecret = controllerSecret,
        };
    }

    private static CancellationToken Budget(int seconds)
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TimeSpan.FromSeconds(seconds));
        return cts.Token;
    }

    [Theory]
    [MemberData(nameof(KernelsAndHashes))]
    public async Task Every_DH_group_in_both_directions_authenticates_and_moves_data(string kernel, string hash)
    {
        var token = Budget(240);
        var output = TestContext.Current.TestOutputHelper;
        foreach (var group in Groups)
        {
            foreach (var bidirectional in new[] { false, true })
            {
                var watch = Stopwatch.StartNew();
                var options = await OptionsAsync(kernel, HostFor(hash, group), HostSecret, bidirectional ? ControllerSecret : null);
                await using (var controller = await NvmeController.ConnectAsync(options, token))
                {
                    var ns = controller.GetNamespace(1);
                    var data = new byte[4096];
                    Random.Shared.NextBytes(data);
                    var back = new byte[data.Length];
                    await controller.IoQueues[0].WriteAsync(ns, 8, data, cancellationToken: token);
                    await controller.IoQueues[0].ReadAsync(ns, 8, back, token);
                    Assert.Equal(data, back);
                }

                output?.WriteLine($"{kernel} {hash} {group} {(bidirectional ? "bidirectional" : "unidirectional")}: connected, authenticated 2 queues, 4 KiB written and read back, disconnected in {watch.ElapsedMilliseconds} ms");
            }
        }
    }

    [Theory]
    [MemberData(nameof(AuthKernelData))]
    public async Task A_wrong_host_key_is_rejected_by_nvmet_and_not_retried(string kernel)
    {
        var options = await OptionsAsync(kernel, HostFor("sha256", "ffdhe2048"), DhchapSecret.Generate(32, 1), null);
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(options, Budget(60)));
        TestContext.Current.TestOutputHelper?.WriteLine(e.Message);
        Assert.Equal(NvmeAuthenticationFailure.HostRejected, e.Failure);

        // nvmet answers AUTH_Failure1 (reason 01h), or closes the connection before it goes out: it makes the controller
        // fatal before it completes the Receive, a race seen on 6.12 and 7.3 alike.
        Assert.True(e.Reason == AuthFailureReason.Failed || (e.Reason == AuthFailureReason.None && e.InnerException is NvmeTransportException), e.ToString());
        TestContext.Current.TestOutputHelper?.WriteLine($"{kernel}: reason {e.Reason}");
        Assert.Equal(0, e.QueueId);
        Assert.False(e.IsTransient);
    }

    [Theory]
    [MemberData(nameof(AuthKernelData))]
    public async Task A_wrong_controller_key_makes_the_client_reject_nvmet_and_not_retry(string kernel)
    {
        var options = await OptionsAsync(kernel, HostFor("sha512", "ffdhe3072"), HostSecret, DhchapSecret.Generate(48, 0));
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(options, Budget(60)));
        TestContext.Current.TestOutputHelper?.WriteLine(e.Message);
        Assert.Equal(NvmeAuthenticationFailure.ControllerRejected, e.Failure);
        Assert.False(e.IsTransient);
    }

    [Theory]
    [MemberData(nameof(AuthKernelData))]
    public async Task A_host_without_a_key_is_told_authentication_is_required(string kernel)
    {
        var options = await OptionsAsync(kernel, HostFor("sha384", "null"), null, null);
        var e = await Assert.ThrowsAsync<NvmeAuthenticationException>(() => NvmeController.ConnectAsync(options, Budget(60)));
        Assert.Equal(NvmeAuthenticationFailure.Required, e.Failure);
        Assert.Equal(0x2, e.Requirements & 0x6); // ATR, as nvmet's Connect DW0 0x0002xxxx
    }

    [Theory]
    [MemberData(nameof(AuthKernelData))]
    public async Task A_host_not_allowed_is_refused_at_connect(string kernel)
    {
        var options = await OptionsAsync(kernel, "nqn.2026-11.dev.nvmetcp:host-unknown", HostSecret, null);
        var e = await Assert.ThrowsAsync<NvmeStatusException>(() => NvmeController.ConnectAsync(options, Budget(60)));
        Assert.Equal(NvmeStatusCodeType.CommandSpecific, e.Status.CodeType);
        Assert.Equal(0x84, e.Status.Code); // Connect Invalid Host
        Assert.False(e.IsTransient);
    }
}
