using NvmeTcp.Protocol;
using NvmeTcp.Interop.Tests.Harness;
using NvmeTcp.Interop.Tests.Raw;

namespace NvmeTcp.Interop.Tests;

/// <summary>Base of the tests against the nvmet VMs: the VM of a kernel, a bounded token, the setup report.</summary>
public abstract class InteropTest(NvmetVms vms)
{
    /// <summary>One test's exchanges take milliseconds; this bounds a hang.</summary>
    private static readonly TimeSpan TestTimeout = TimeSpan.FromSeconds(30);

    private static readonly Dictionary<string, DigestTypes> DigestsByName = new(StringComparer.Ordinal)
    {
        ["none"] = DigestTypes.None,
        ["header+data"] = DigestTypes.Header | DigestTypes.Data,
    };

    /// <summary>Kernels under test.</summary>
    public static TheoryData<string> Kernels => new(NvmetVms.Kernels);

    /// <summary>Kernels times digest choices.</summary>
    public static MatrixTheoryData<string, string> KernelsAndDigests => new(NvmetVms.Kernels, [.. DigestsByName.Keys]);

    internal static DigestTypes Digests(string name) => DigestsByName[name];

    /// <summary>Fires at <see cref="TestTimeout"/> or when the run is cancelled.</summary>
    internal static CancellationToken Timeout()
    {
        var cts = CancellationTokenSource.CreateLinkedTokenSource(TestContext.Current.CancellationToken);
        cts.CancelAfter(TestTimeout);
        return cts.Token;
    }

    /// <summary>The VM of <paramref name="kernel"/>; the setup report (prepare and boot times) goes to the test output.</summary>
    internal async Task<NvmetVm> VmAsync(string kernel)
    {
        foreach (var line in vms.Report)
        {
            TestContext.Current.TestOutputHelper?.WriteLine(line);
        }

        return await vms.GetAsync(kernel);
    }

    /// <summary>A TCP connection to the VM's nvmet, initialized with <paramref name="digests"/>.</summary>
    internal async Task<RawConnection> OpenAsync(string kernel, DigestTypes digests, CancellationToken cancellationToken)
    {
        var vm = await VmAsync(kernel);
        var connection = await RawConnection.ConnectAsync(vm.EndPoint, cancellationToken);
        try
        {
            await connection.InitializeAsync(digests, cancellationToken);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }
}
