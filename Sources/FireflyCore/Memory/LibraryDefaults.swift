// Settings for C libraries that plugins bring into the process, made before the first plugin loads.
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Each setting is an environment variable the library reads when it is loaded; one the user set
/// already is left as it is.
/// - **`GNUTLS_NO_IMPLICIT_INIT=1`.** Debian's libpq (the postgres exporter's) links libldap,
///   which links GnuTLS. GnuTLS initialises its crypto backends and p11-kit's modules from a
///   constructor as soon as it is loaded: about 0.8 MiB resident that Firefly never uses. libpq's
///   TLS is OpenSSL, and libldap initialises GnuTLS itself when an LDAP lookup needs TLS.
/// Applied once, when the first plugin is loaded (before the collector serves).
enum LibraryDefaults {
    static func apply() { _ = applied }

    private static let applied: Bool = {
        setenv("GNUTLS_NO_IMPLICIT_INIT", "1", 0)
        return true
    }()
}
