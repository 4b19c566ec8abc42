using NvmeTcp.Interop.Tests.Harness;

// One pair of VMs (6.1 and 6.12) for the whole run: booting takes seconds, a test milliseconds.
[assembly: AssemblyFixture(typeof(NvmetVms))]
