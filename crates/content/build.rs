// Content (course.yaml, lessons/, quizzes/, labs/, containers/ at the
// repository's top) is embedded with include_dir!, which cargo cannot see;
// tell cargo to rebuild when any of it changes.
fn main() {
    for path in ["course.yaml", "lessons", "quizzes", "labs", "containers"] {
        println!("cargo:rerun-if-changed=../../{path}");
    }
}
