// flaky.html: throws on load with probability 0.5 (for replay --times N).
const fails = Math.random() < 0.5;
document.body.dataset.outcome = fails ? 'fail' : 'ok';
if (fails) {
  setTimeout(function flakyTimer() {
    throw new Error('flaky failure');
  }, 0);
}
