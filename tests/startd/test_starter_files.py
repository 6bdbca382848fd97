"""The files the starter leaves for the shadow and the startd (starter/main.py): the shadow's
copy of the result is the result file itself (a hard link, same text) and ".done" the
".started" marker's text; without the file to link the text is written; the sandbox is
removed with whatever the job left in it."""
import os
import sys

from pyhtc import classad as C
from pyhtc.daemoncore.log import DebugLog
from pyhtc.daemons.starter.lazyad import LazyAd
from pyhtc.daemoncore.adfile import write_text
from pyhtc.daemons.starter.main import Starter, _remove_tree


def _starter(tmp_path, job_text):
    job = LazyAd(job_text)
    return Starter("slot1", job, LazyAd("Cpus = 1\n"), str(tmp_path), None, DebugLog(stream=sys.stderr))


def test_result_and_markers_for_the_shadow(tmp_path):
    report = tmp_path / "1.0.1.report.starter"
    st = _starter(tmp_path, f'_condor_ShadowResultFile = "{report}"\nCmd = "/bin/true"\n')
    st.mark_started()
    started = (tmp_path / "1.0.1.report.starter.started").read_text()
    assert C.parseOne(started, C.ParserType.Old)["StarterPid"] == os.getpid()
    result = C.ClassAd({"Outcome": "Exited", "ExitCode": 0})
    text = result.printOld()
    write_text(st.result_path, text)
    st.mirror_for_shadow("", result, text, same_as=st.result_path)
    assert report.read_text() == text
    assert os.stat(report).st_ino == os.stat(st.result_path).st_ino      # linked, not copied
    st.mark_done()
    done = tmp_path / "1.0.1.report.starter.done"
    assert done.read_text() == started
    # the shadow removes its files; the startd's result file stays whole
    for suffix in ("", ".started", ".done"):
        os.unlink(str(report) + suffix)
    assert open(st.result_path).read() == text


def test_without_a_file_to_link_the_text_is_written(tmp_path):
    report = tmp_path / "r"
    st = _starter(tmp_path, f'_condor_ShadowResultFile = "{report}"\n')
    st.mark_done()                              # no ".started" to link
    assert C.parseOne((tmp_path / "r.done").read_text(), C.ParserType.Old)["StarterPid"] == os.getpid()
    (tmp_path / "r").write_text("old\n")        # a name already taken: replaced, as before
    st.mirror_for_shadow("", C.ClassAd({"Outcome": "Held"}), same_as=str(tmp_path / "r.done"))
    assert C.parseOne((tmp_path / "r").read_text(), C.ParserType.Old)["Outcome"] == "Held"


def test_remove_tree_removes_files_links_and_subdirectories(tmp_path):
    box = tmp_path / "dir_1"
    box.mkdir()
    (box / ".job.ad").write_text("A = 1\n")
    _remove_tree(str(box))
    assert not box.exists()
    box.mkdir()
    (box / "sub" / "deeper").mkdir(parents=True)
    (box / "sub" / "deeper" / "f").write_text("x")
    os.symlink("/etc", box / "link")            # removed, never followed
    _remove_tree(str(box))
    assert not box.exists() and os.path.exists("/etc/passwd")
    _remove_tree(str(box))                      # absent: nothing to do
