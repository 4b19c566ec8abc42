namespace NvmeTcp.Protocol.Nvm;

/// <summary>
/// Opcodes of the NVM command set's I/O commands this library sends (NVM Command Set 1.0, "Opcodes for NVM
/// Commands"). Bits 0-1 give the data direction: 01b host to controller, 10b controller to host.
/// </summary>
public enum NvmOpcode : byte
{
    /// <summary>Flush.</summary>
    Flush = 0x00,

    /// <summary>Write.</summary>
    Write = 0x01,

    /// <summary>Read.</summary>
    Read = 0x02,

    /// <summary>Compare.</summary>
    Compare = 0x05,

    /// <summary>Write Zeroes.</summary>
    WriteZeroes = 0x08,

    /// <summary>Dataset Management.</summary>
    DatasetManagement = 0x09,
}
