// hiclaw-driver-runner: hosts one driver library in its own process and serves the host's calls
// over the socket it inherits as fd 3. Started by hiclaw-host and hiclaw; not meant for people.
import CSystemShims
import DriverHost
import Glibc

// Die with the parent even if it is killed before it can close the socket.
hc_die_with_parent()
if getppid() == 1 { _exit(0) }

do {
  let arguments = try RunnerArguments(parsing: Array(CommandLine.arguments.dropFirst()))
  let code = RunnerServer(arguments: arguments).run()
  // _exit, not exit: a misbehaving driver may still have threads running; no atexit handlers.
  _exit(code)
} catch {
  let message = "\(error)\n"
  _ = message.withCString { write(2, $0, strlen($0)) }
  _exit(64)
}
