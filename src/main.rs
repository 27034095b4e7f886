fn main() -> std::process::ExitCode {
    datalab::cli::main()
}
