// The Swift toolchain this module was compiled with, as the tag that appears in a driver's magic
// block and manifest (`toolchain`). Computed at compile time, so a host and a driver built with
// different compilers report different tags.

/// The Swift toolchain a module was compiled with.
///
/// A Swift driver that links the shared Swift runtime (`HC_MAGIC_F_SWIFT_DYNAMIC_RUNTIME`) must be
/// built by exactly the host's toolchain, because Linux Swift has no stable ABI and
/// `libswiftCore.so` is loaded once per process. The host compares the driver's magic-block
/// `toolchain` with its own ``SwiftToolchain/current`` and refuses a mismatch before `init`.
///
/// The value is chosen by a `#if compiler(>=X.Y.Z)` chain covering Swift 6.0.0 through 6.5.9,
/// newest first. A compiler newer than the table yields `"swift-unknown"` (and a build warning);
/// hosts should refuse that tag, since it cannot prove two toolchains equal.
public enum SwiftToolchain {
  /// The tag of the toolchain this module was compiled with, e.g. `"swift-6.3.1"`.
  public static let current: String = "swift-" + compiledToolchainVersion

  /// The tag a driver built with `-static-stdlib` reports, e.g. `"swift-static-6.3.1"`. Such a
  /// driver carries its own runtime and may be loaded by a host built with another toolchain.
  public static let staticTag: String = "swift-static-" + compiledToolchainVersion

  /// The bare compiler version, e.g. `"6.3.1"`, or `"unknown"` outside the table.
  public static let version: String = compiledToolchainVersion

  /// True if `tag` names a Swift toolchain that can be proven equal to another, i.e. it is not
  /// the `unknown` fallback.
  public static func isKnown(_ tag: String) -> Bool {
    !tag.hasSuffix("-unknown")
  }
}

// Swift 6.0.0 … 6.5.9; the patch levels are listed so that 6.3.0 and 6.3.1 differ.
#if compiler(>=6.6)
  #warning("SwiftToolchain: compiler newer than the version table; extend SwiftToolchain.swift")
  private let compiledToolchainVersion = "unknown"
#elseif compiler(>=6.5.9)
  private let compiledToolchainVersion = "6.5.9"
#elseif compiler(>=6.5.8)
  private let compiledToolchainVersion = "6.5.8"
#elseif compiler(>=6.5.7)
  private let compiledToolchainVersion = "6.5.7"
#elseif compiler(>=6.5.6)
  private let compiledToolchainVersion = "6.5.6"
#elseif compiler(>=6.5.5)
  private let compiledToolchainVersion = "6.5.5"
#elseif compiler(>=6.5.4)
  private let compiledToolchainVersion = "6.5.4"
#elseif compiler(>=6.5.3)
  private let compiledToolchainVersion = "6.5.3"
#elseif compiler(>=6.5.2)
  private let compiledToolchainVersion = "6.5.2"
#elseif compiler(>=6.5.1)
  private let compiledToolchainVersion = "6.5.1"
#elseif compiler(>=6.5.0)
  private let compiledToolchainVersion = "6.5.0"
#elseif compiler(>=6.4.9)
  private let compiledToolchainVersion = "6.4.9"
#elseif compiler(>=6.4.8)
  private let compiledToolchainVersion = "6.4.8"
#elseif compiler(>=6.4.7)
  private let compiledToolchainVersion = "6.4.7"
#elseif compiler(>=6.4.6)
  private let compiledToolchainVersion = "6.4.6"
#elseif compiler(>=6.4.5)
  private let compiledToolchainVersion = "6.4.5"
#elseif compiler(>=6.4.4)
  private let compiledToolchainVersion = "6.4.4"
#elseif compiler(>=6.4.3)
  private let compiledToolchainVersion = "6.4.3"
#elseif compiler(>=6.4.2)
  private let compiledToolchainVersion = "6.4.2"
#elseif compiler(>=6.4.1)
  private let compiledToolchainVersion = "6.4.1"
#elseif compiler(>=6.4.0)
  private let compiledToolchainVersion = "6.4.0"
#elseif compiler(>=6.3.9)
  private let compiledToolchainVersion = "6.3.9"
#elseif compiler(>=6.3.8)
  private let compiledToolchainVersion = "6.3.8"
#elseif compiler(>=6.3.7)
  private let compiledToolchainVersion = "6.3.7"
#elseif compiler(>=6.3.6)
  private let compiledToolchainVersion = "6.3.6"
#elseif compiler(>=6.3.5)
  private let compiledToolchainVersion = "6.3.5"
#elseif compiler(>=6.3.4)
  private let compiledToolchainVersion = "6.3.4"
#elseif compiler(>=6.3.3)
  private let compiledToolchainVersion = "6.3.3"
#elseif compiler(>=6.3.2)
  private let compiledToolchainVersion = "6.3.2"
#elseif compiler(>=6.3.1)
  private let compiledToolchainVersion = "6.3.1"
#elseif compiler(>=6.3.0)
  private let compiledToolchainVersion = "6.3.0"
#elseif compiler(>=6.2.9)
  private let compiledToolchainVersion = "6.2.9"
#elseif compiler(>=6.2.8)
  private let compiledToolchainVersion = "6.2.8"
#elseif compiler(>=6.2.7)
  private let compiledToolchainVersion = "6.2.7"
#elseif compiler(>=6.2.6)
  private let compiledToolchainVersion = "6.2.6"
#elseif compiler(>=6.2.5)
  private let compiledToolchainVersion = "6.2.5"
#elseif compiler(>=6.2.4)
  private let compiledToolchainVersion = "6.2.4"
#elseif compiler(>=6.2.3)
  private let compiledToolchainVersion = "6.2.3"
#elseif compiler(>=6.2.2)
  private let compiledToolchainVersion = "6.2.2"
#elseif compiler(>=6.2.1)
  private let compiledToolchainVersion = "6.2.1"
#elseif compiler(>=6.2.0)
  private let compiledToolchainVersion = "6.2.0"
#elseif compiler(>=6.1.6)
  private let compiledToolchainVersion = "6.1.6"
#elseif compiler(>=6.1.5)
  private let compiledToolchainVersion = "6.1.5"
#elseif compiler(>=6.1.4)
  private let compiledToolchainVersion = "6.1.4"
#elseif compiler(>=6.1.3)
  private let compiledToolchainVersion = "6.1.3"
#elseif compiler(>=6.1.2)
  private let compiledToolchainVersion = "6.1.2"
#elseif compiler(>=6.1.1)
  private let compiledToolchainVersion = "6.1.1"
#elseif compiler(>=6.1.0)
  private let compiledToolchainVersion = "6.1.0"
#elseif compiler(>=6.0.5)
  private let compiledToolchainVersion = "6.0.5"
#elseif compiler(>=6.0.4)
  private let compiledToolchainVersion = "6.0.4"
#elseif compiler(>=6.0.3)
  private let compiledToolchainVersion = "6.0.3"
#elseif compiler(>=6.0.2)
  private let compiledToolchainVersion = "6.0.2"
#elseif compiler(>=6.0.1)
  private let compiledToolchainVersion = "6.0.1"
#elseif compiler(>=6.0.0)
  private let compiledToolchainVersion = "6.0.0"
#else
  private let compiledToolchainVersion = "unknown"
#endif
