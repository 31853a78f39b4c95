#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    connected::inbound::cli::main()
}
