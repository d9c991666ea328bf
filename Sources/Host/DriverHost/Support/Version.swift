import DriverABI

/// The version of this hiclaw build, reported to drivers (`hc_init_args.host_version`) and by
/// `hiclaw version`.
public enum HiclawVersion {
  public static let current = "0.1.0"
}

/// The driver ABI this host speaks (from hiclaw_driver.h).
public enum DriverABIVersion {
  public static let major = UInt32(HC_ABI_MAJOR)
  public static let minor = UInt32(HC_ABI_MINOR)
  public static var description: String { "\(major).\(minor)" }
}
