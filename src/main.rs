use std::process::ExitCode;

fn main() -> ExitCode {
    asyncmod::cli::main()
}
