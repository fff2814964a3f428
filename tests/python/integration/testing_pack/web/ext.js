console.log("testing_pack extension loaded");
