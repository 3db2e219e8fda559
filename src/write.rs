//! Writing a rewritten file: atomically (temp file in the same folder + rename), with the
//! original permissions, and never over a file that changed since it was read.

use std::io::Write as _;

use crate::source::{FileError, FileProblem, SourceFile};

pub fn write_atomically(file: &SourceFile, new_text: &str) -> Result<(), FileError> {
    let fail = |problem| FileError { path: file.path.clone(), problem };
    // Write through a symlink to its target rather than replacing the link.
    let target = std::fs::canonicalize(&file.path).map_err(|e| fail(FileProblem::Write(e)))?;
    let metadata = std::fs::metadata(&target).map_err(|e| fail(FileProblem::Write(e)))?;
    if metadata.permissions().readonly() {
        return Err(fail(FileProblem::ReadOnly));
    }
    match std::fs::read(&target) {
        Ok(current) if current == file.original => {}
        Ok(_) => return Err(fail(FileProblem::ChangedOnDisk)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(fail(FileProblem::ChangedOnDisk));
        }
        Err(e) => return Err(fail(FileProblem::Read(e))),
    }
    let folder =
        target.parent().ok_or_else(|| fail(FileProblem::Write(std::io::Error::other("no parent folder"))))?;
    let mut temp = tempfile::Builder::new()
        .prefix(".asyncmod-")
        .suffix(".tmp")
        .tempfile_in(folder)
        .map_err(|e| fail(FileProblem::Write(e)))?;
    temp.write_all(&file.encode(new_text)).map_err(|e| fail(FileProblem::Write(e)))?;
    temp.as_file().set_permissions(metadata.permissions()).map_err(|e| fail(FileProblem::Write(e)))?;
    temp.persist(&target).map_err(|e| fail(FileProblem::Write(e.error)))?;
    Ok(())
}
