from collector.schemas import main

main()
