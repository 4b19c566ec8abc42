using System.Buffers.Binary;
using NvmeTcp.Protocol;
using NvmeTcp.Protocol.Nvm;
using Layout = NvmeTcp.Protocol.Nvm.ReservationReportLayout;

namespace NvmeTcp.Target.Internal;

/// <summary>
/// One namespace's reservation (NVMe Base 2.0, 8.19): registrants by Host Identifier with their keys, the holder and
/// the type. Not persisted (PTPL is not supported): a restarted target starts with none.
/// </summary>
internal sealed class Reservations
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, ulong> _registrants = [];
    private Guid? _holder;
    private ReservationType _type;
    private uint _generation;

    public NvmeStatus Register(Guid host, ReservationRegisterAction action, bool ignoreKey, ulong currentKey, ulong newKey)
    {
        lock (_lock)
        {
            var registered = _registrants.TryGetValue(host, out var key);
            switch (action)
            {
                case ReservationRegisterAction.Register:
                    if (registered)
                    {
                        // Registering again with the same key is not an error; another key is a conflict.
                        return key == newKey ? NvmeStatus.Success : Conflict;
                    }

                    _registrants[host] = newKey;
                    _generation++;
                    return NvmeStatus.Success;
                case ReservationRegisterAction.Unregister:
                    if (!registered || (!ignoreKey && key != currentKey))
                    {
                        return Conflict;
                    }

                    _registrants.Remove(host);
                    if (_holder == host || (IsAllRegistrants && _registrants.Count == 0))
                    {
                        ClearReservation();
                    }

                    _generation++;
                    return NvmeStatus.Success;
                case ReservationRegisterAction.Replace:
                    if (registered && !ignoreKey && key != currentKey)
                    {
                        return Conflict;
                    }

                    _registrants[host] = newKey;
                    _generation++;
                    return NvmeStatus.Success;
                default:
                    return Status.Of(StatusCodes.InvalidField);
            }
        }
    }

    public NvmeStatus Acquire(Guid host, ReservationAcquireAction action, ReservationType type, bool ignoreKey, ulong currentKey, ulong preemptKey)
    {
        if (type is < ReservationType.WriteExclusive or > ReservationType.ExclusiveAccessAllRegistrants)
        {
            return Status.Of(StatusCodes.InvalidField);
        }

        lock (_lock)
        {
            if (!_registrants.TryGetValue(host, out var key) || (!ignoreKey && key != currentKey))
            {
                return Conflict;
            }

            if (action == ReservationAcquireAction.Acquire)
            {
                if (_type == ReservationType.None)
                {
                    _holder = host;
                    _type = type;
                    return NvmeStatus.Success;
                }

                return Holds(host) && _type == type ? NvmeStatus.Success : Conflict;
            }

            if (action is not (ReservationAcquireAction.Preempt or ReservationAcquireAction.PreemptAndAbort))
            {
                return Status.Of(StatusCodes.InvalidField);
            }

            // Preempt: the registrants with PRKEY go; if the holder was one of them, this host takes the reservation.
            var holderPreempted = _type != ReservationType.None && !IsAllRegistrants && _holder is { } holder
                && _registrants.TryGetValue(holder, out var holderKey) && holderKey == preemptKey;
            var removed = _registrants.Where(r => r.Value == preemptKey && r.Key != host).Select(r => r.Key).ToList();
            if (removed.Count == 0 && !holderPreempted)
            {
                return Conflict;
            }

            foreach (var r in removed)
            {
                _registrants.Remove(r);
            }

            if (holderPreempted || _type == ReservationType.None || IsAllRegistrants)
            {
                _holder = host;
                _type = type;
            }

            _generation++;
            return NvmeStatus.Success;
        }
    }

    public NvmeStatus Release(Guid host, ReservationReleaseAction action, ReservationType type, bool ignoreKey, ulong currentKey)
    {
        lock (_lock)
        {
            if (!_registrants.TryGetValue(host, out var key) || (!ignoreKey && key != currentKey))
            {
                return Conflict;
            }

            if (action == ReservationReleaseAction.Clear)
            {
                _registrants.Clear();
                ClearReservation();
                _generation++;
                return NvmeStatus.Success;
            }

            if (action != ReservationReleaseAction.Release)
            {
                return Status.Of(StatusCodes.InvalidField);
            }

            if (_type == ReservationType.None || !Holds(host))
            {
                return NvmeStatus.Success;
            }

            if (type != _type)
            {
                return Status.Of(StatusCodes.InvalidField);
            }

            ClearReservation();
            return NvmeStatus.Success;
        }
    }

    /// <summary>Reservation Status data (extended: 128-bit host IDs) of at most <paramref name="destination"/>'s length.</summary>
    public int Report(Span<byte> destination, bool extended, Func<Guid, ushort> controllerIdOf)
    {
        destination.Clear();
        lock (_lock)
        {
            var header = extended ? Layout.ExtendedHeaderSize : Layout.HeaderSize;
            var entrySize = extended ? Layout.ExtendedEntrySize : Layout.EntrySize;
            Span<byte> all = new byte[header + (_registrants.Count * entrySize)];
            BinaryPrimitives.WriteUInt32LittleEndian(all[Layout.GenerationOffset..], _generation);
            all[Layout.TypeOffset] = (byte)_type;
            BinaryPrimitives.WriteUInt16LittleEndian(all[Layout.RegisteredControllersOffset..], (ushort)_registrants.Count);
            var at = header;
            foreach (var (host, key) in _registrants.OrderBy(r => r.Key))
            {
                var entry = all.Slice(at, entrySize);
                BinaryPrimitives.WriteUInt16LittleEndian(entry[Layout.ControllerIdOffset..], controllerIdOf(host));
                entry[Layout.StatusOffset] = (byte)(Holds(host) && _type != ReservationType.None ? 1 : 0);
                if (extended)
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(entry[Layout.ExtendedKeyOffset..], key);
                    host.TryWriteBytes(entry.Slice(Layout.ExtendedHostIdOffset, 16), bigEndian: true, out _);
                }
                else
                {
                    BinaryPrimitives.WriteUInt64LittleEndian(entry[Layout.KeyOffset..], key);
                }

                at += entrySize;
            }

            var length = Math.Min(all.Length, destination.Length);
            all[..length].CopyTo(destination);
            return length;
        }
    }

    /// <summary>Reservation Conflict, or success, for a host's access (NVMe Base 2.0, Figure 583).</summary>
    public NvmeStatus Check(Guid host, bool write)
    {
        lock (_lock)
        {
            if (_type == ReservationType.None || Holds(host))
            {
                return NvmeStatus.Success;
            }

            var registrant = _registrants.ContainsKey(host);
            var allowed = _type switch
            {
                ReservationType.WriteExclusive => !write,
                ReservationType.ExclusiveAccess => false,
                ReservationType.WriteExclusiveRegistrantsOnly or ReservationType.WriteExclusiveAllRegistrants => !write || registrant,
                _ => registrant,
            };
            return allowed ? NvmeStatus.Success : Conflict;
        }
    }

    private static NvmeStatus Conflict => Status.Of(StatusCodes.ReservationConflict);

    private bool IsAllRegistrants => _type is ReservationType.WriteExclusiveAllRegistrants or ReservationType.ExclusiveAccessAllRegistrants;

    private bool Holds(Guid host) => IsAllRegistrants ? _registrants.ContainsKey(host) : _holder == host;

    private void ClearReservation()
    {
        _holder = null;
        _type = ReservationType.None;
    }
}
