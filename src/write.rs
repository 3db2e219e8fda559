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
    keep_owner(temp.as_file(), &metadata);
    temp.persist(&target).map_err(|e| fail(FileProblem::Write(e.error)))?;
    Ok(())
}

/// Gives the new file the old one's owner and group. Only root may give a file away, and anyone
/// else rewrites only files they may write, so a failure here changes nothing: it is ignored.
#[cfg(unix)]
fn keep_owner(file: &std::fs::File, original: &std::fs::Metadata) {
    use std::os::unix::fs::MetadataExt;
    let _ = std::os::unix::fs::fchown(file, Some(original.uid()), Some(original.gid()));
}

#[cfg(not(unix))]
fn keep_owner(_file: &std::fs::File, _original: &std::fs::Metadata) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_refuses_a_file_changed_since_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.py");
        std::fs::write(&path, "x = 1\n").unwrap();
        let file = SourceFile::read(&path).unwrap();
        std::fs::write(&path, "x = 2\n").unwrap();
        let error = write_atomically(&file, "x = 3\n").unwrap_err();
        assert!(matches!(error.problem, FileProblem::ChangedOnDisk));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x = 2\n");

        let file = SourceFile::read(&path).unwrap();
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(
            write_atomically(&file, "x = 3\n").unwrap_err().problem,
            FileProblem::Write(_) | FileProblem::ChangedOnDisk
        ));
        assert!(!path.exists(), "a vanished file is not recreated");

        std::fs::write(&path, "x = 1\n").unwrap();
        let file = SourceFile::read(&path).unwrap();
        write_atomically(&file, "x = 3\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x = 3\n");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1, "no temp file left behind");
    }

    #[cfg(unix)]
    #[test]
    fn writes_through_a_symlink_to_its_target() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.py");
        let link = dir.path().join("link.py");
        std::fs::write(&target, "x = 1\n").unwrap();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let file = SourceFile::read(&link).unwrap();
        write_atomically(&file, "x = 2\n").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink());
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "x = 2\n");
    }
}
