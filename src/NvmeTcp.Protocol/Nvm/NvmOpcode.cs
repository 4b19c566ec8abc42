namespace NvmeTcp.Protocol.Nvm;

/// <summary>
/// I/O command opcodes of the NVM command set (NVM Command Set 1.0, "Opcodes for NVM Commands"; the reservation
/// commands are NVMe Base 2.0 "I/O Commands"). Bits 0-1 give the data direction: 01b host to controller, 10b
/// controller to host. Names as the spec spells them: <see cref="Spec.CommandName"/>.
/// </summary>
public enum NvmOpcode : byte
{
    /// <summary>Flush.</summary>
    Flush = 0x00,

    /// <summary>Write.</summary>
    Write = 0x01,

    /// <summary>Read.</summary>
    Read = 0x02,

    /// <summary>Write Uncorrectable.</summary>
    WriteUncorrectable = 0x04,

    /// <summary>Compare.</summary>
    Compare = 0x05,

    /// <summary>Write Zeroes.</summary>
    WriteZeroes = 0x08,

    /// <summary>Dataset Management.</summary>
    DatasetManagement = 0x09,

    /// <summary>Verify.</summary>
    Verify = 0x0C,

    /// <summary>Reservation Register.</summary>
    ReservationRegister = 0x0D,

    /// <summary>Reservation Report.</summary>
    ReservationReport = 0x0E,

    /// <summary>Reservation Acquire.</summary>
    ReservationAcquire = 0x11,

    /// <summary>Reservation Release.</summary>
    ReservationRelease = 0x15,

    /// <summary>Copy.</summary>
    Copy = 0x19,
}
