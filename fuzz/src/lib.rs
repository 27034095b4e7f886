//! What the content targets share: a small course on disk whose files are
//! all valid, one of which each run replaces with the fuzzer's bytes before
//! loading and linting the whole tree, as `datalab lint DIR` and
//! `datalab --content DIR` do with an instructor's copy.

use datalab_content::{Content, Course, lint};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

const COURSE: &str = "title: Fuzz
days:
  - id: d
    title: Day
    sessions:
      - id: s
        title: Session
        minutes: 30
        units:
          - { kind: lesson, id: l }
          - { kind: quiz, id: q }
          - { kind: lab, id: x }
";
const LESSON: &str = "# A lesson\n\nSome *text*.\n\n```\ncode\n```\n";
const QUIZ: &str = "title: Q
questions:
  - { id: a, kind: true_false, prompt: P, answer: true, explanation: E }
";
const LAB: &str = "title: X
steps:
  - id: one
    title: One
    instructions: Do it.
    checks:
      - file_exists: { path: a.txt }
";

/// The course's files, content-relative, with their valid text.
const FILES: [(&str, &str); 4] = [
    ("course.yaml", COURSE),
    ("lessons/l.md", LESSON),
    ("quizzes/q.yaml", QUIZ),
    ("labs/x/lab.yaml", LAB),
];

/// This process's copy of the course (one per fuzzing process).
fn root() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temp dir");
        for d in ["lessons", "quizzes", "labs/x/solution", "labs/x/starter"] {
            std::fs::create_dir_all(dir.path().join(d)).expect("folders");
        }
        std::fs::write(dir.path().join("labs/x/solution/a.txt"), "a\n").expect("a file");
        dir
    })
    .path()
}

/// Write the course with `rel` holding `bytes`, then load and lint it.
/// Anything may come back; nothing may panic.
pub fn load_with(rel: &str, bytes: &[u8]) {
    let root: PathBuf = root().to_path_buf();
    for (path, text) in FILES {
        let body = if path == rel { bytes } else { text.as_bytes() };
        std::fs::write(root.join(path), body).expect("write a content file");
    }
    let content = Content::disk(&root);
    for d in lint(&content) {
        let _ = d.to_string();
    }
    let _ = Course::load(content);
}
