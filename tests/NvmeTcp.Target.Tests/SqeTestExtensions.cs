using NvmeTcp.Protocol;

namespace NvmeTcp.Target.Tests;

/// <summary>SQE helpers for tests that put bytes on the wire themselves (the client's transport decides this for real commands).</summary>
internal static class SqeTestExtensions
{
    /// <summary>Points SGL1 at in-capsule data of the SQE's length, when <paramref name="inCapsule"/>.</summary>
    public static Sqe InCapsule(this Sqe sqe, bool inCapsule = true)
    {
        DataPointer.Set(ref sqe, sqe.SglLength, inCapsule);
        return sqe;
    }
}
