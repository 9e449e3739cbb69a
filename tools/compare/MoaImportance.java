// MoaImportance.java: MOA's own feature importance (MDI) of a Hoeffding
// tree (moa.learners.featureanalysis.FeatureImportanceHoeffdingTree with
// its default HoeffdingTree) or of an ensemble of trees
// (FeatureImportanceHoeffdingTreeEnsemble, the ensemble given as a MOA
// command line relative to moa.classifiers) trained on every instance of an
// ARFF file (class last), for the importance parity test.
//
//   java -cp moa.jar:DIR MoaImportance FILE.arff ['meta.AdaptiveRandomForest -s 10']
//
// Prints one JSON line: {"tool":"moa","instances":N,"importance":{NAME: v}}
// with MOA's unnormalised values (getFeatureImportances(false): for an
// ensemble, the sum of its trees').
import moa.classifiers.AbstractClassifier;
import moa.learners.featureanalysis.FeatureImportanceClassifier;
import moa.learners.featureanalysis.FeatureImportanceHoeffdingTree;
import moa.learners.featureanalysis.FeatureImportanceHoeffdingTreeEnsemble;
import moa.streams.ArffFileStream;

public class MoaImportance {
  public static void main(String[] args) {
    if (args.length != 1 && args.length != 2) {
      System.err.println("usage: MoaImportance FILE.arff [ENSEMBLE_CLI]");
      System.exit(2);
    }
    ArffFileStream stream = new ArffFileStream(args[0], -1);
    stream.prepareForUse();
    AbstractClassifier learner;
    if (args.length == 2) {
      FeatureImportanceHoeffdingTreeEnsemble e = new FeatureImportanceHoeffdingTreeEnsemble();
      e.ensembleLearnerOption.setValueViaCLIString(args[1].contains(".moa.") ? args[1] : "moa.classifiers." + args[1]);
      learner = e;
    } else {
      learner = new FeatureImportanceHoeffdingTree();
    }
    learner.setModelContext(stream.getHeader());
    learner.prepareForUse();
    long n = 0;
    while (stream.hasMoreInstances()) {
      learner.trainOnInstance(stream.nextInstance().getData());
      n++;
    }
    double[] imp = ((FeatureImportanceClassifier) learner).getFeatureImportances(false);
    StringBuilder out = new StringBuilder("{\"tool\":\"moa\",\"instances\":" + n + ",\"importance\":{");
    for (int i = 0; i < imp.length; i++) {
      String name = stream.getHeader().attribute(i).name().replace("\\", "\\\\").replace("\"", "\\\"");
      out.append(i > 0 ? "," : "").append('"').append(name).append("\":").append(Double.toString(imp[i]));
    }
    System.out.println(out.append("}}"));
  }
}
