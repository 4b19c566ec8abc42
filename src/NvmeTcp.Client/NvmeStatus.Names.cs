namespace NvmeTcp.Client;

public readonly partial struct NvmeStatus
{
    /// <summary>The spec's name for this status code.</summary>
    public string Name => IsSuccess ? "Successful Completion" : "Unknown Status";
}
