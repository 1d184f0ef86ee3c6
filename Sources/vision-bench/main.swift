print("vision-bench")
